"""Uploads from callers who prove nothing are refused before a byte of them is read.

Once, a token-less multipart POST of 60 MiB to ``/v1/vouchers`` was read whole (62,914,560
bytes) before its 401: FastAPI parses a form before it checks the caller, and Starlette spools
each part over 1 MiB to disk, so a few parallel requests filled a pod's ``/tmp``. Here the ingest
service runs under uvicorn on a port of its own, as in production, its application wrapped so
that every body byte it reads is counted; the client speaks HTTP on a raw socket, declaring and
sending 60 MiB while it reads the answer.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from devkit.identity import as_user
from devkit.testing import InProcessPermission, free_port
from ingest.app import create_app as ingest_app

UPLOAD = 60 * 1024 * 1024


@dataclass
class Counted:
    """An application, and the body bytes it has read."""

    app: ASGIApp
    read: int = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted() -> Message:
            message = await receive()
            self.read += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[int]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(90):
            while not server.started:
                if task.done():
                    task.result()  # it failed to start: say why
                await asyncio.sleep(0.05)
        yield port
    finally:
        server.should_exit = True
        await task


def post_upload(port: int, headers: dict[str, str]) -> tuple[bytes, bool]:
    """POST a 60 MiB multipart body, sending it while reading the answer: the answer, and
    whether the server closed the connection after it."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = {
        "Host": "ingest",
        "Content-Type": "multipart/form-data; boundary=aapboundary",
        "Content-Length": str(UPLOAD),
        **headers,
    }
    lines = ["POST /v1/vouchers HTTP/1.1", *(f"{k}: {v}" for k, v in head.items()), "", ""]
    sock.sendall("\r\n".join(lines).encode())

    def send_body() -> None:
        part = b'--aapboundary\r\nContent-Disposition: form-data; name="voucher"; filename="v"'
        chunk, sent = part + b"\r\n\r\n" + bytes(1024 * 1024 - len(part) - 4), 0
        try:
            while sent < UPLOAD:
                sock.sendall(chunk[: UPLOAD - sent])
                sent += len(chunk)
        except OSError:
            return  # the server closed the connection: what is sent next goes nowhere

    sender = threading.Thread(target=send_body, daemon=True)
    sender.start()
    answer, closed = b"", False
    try:
        while data := sock.recv(65536):
            answer += data
        closed = True
    except ConnectionResetError:
        closed = bool(answer)  # closed while the body still arrived: reset, after the answer
    finally:
        sock.close()
        sender.join(timeout=30)
    return answer, closed


async def test_an_upload_without_a_token_or_the_role_is_refused_before_its_body_is_read(
    permission: InProcessPermission,
) -> None:
    app = Counted(ingest_app(permission_transport=permission.transport))
    async with serving(app) as port:
        no_token, closed = await asyncio.to_thread(post_upload, port, {})
        assert no_token.startswith(b"HTTP/1.1 401 "), no_token[:200]
        assert b"authentication required" in no_token and closed
        assert app.read < 1024 * 1024, f"{app.read} body bytes read before the 401"

        # A genuine token, but of someone who uploads nothing (an administrator): 403, as early.
        auditor = dict(as_user("secauditor"))
        refused, closed = await asyncio.to_thread(post_upload, port, auditor)
        assert refused.startswith(b"HTTP/1.1 403 "), refused[:200]
        assert b"uploads are for accountants and the ERP integration" in refused and closed
        assert app.read < 1024 * 1024, f"{app.read} body bytes read before the 403"
