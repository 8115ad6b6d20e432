"""A clamd client (ClamAV's INSTREAM command over TCP): what the virus scan (4-2) asks."""

from __future__ import annotations

import asyncio
import struct

CHUNK = 64 * 1024


class ScanUnavailable(Exception):
    pass


class Clamd:
    def __init__(self, address: str, timeout: float = 30) -> None:
        host, _, port = address.rpartition(":")
        self._host, self._port, self._timeout = host, int(port), timeout

    async def scan(self, data: bytes) -> str | None:
        """The signature found in ``data``, or None if clean."""
        try:
            return await asyncio.wait_for(self._scan(data), self._timeout)
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
            raise ScanUnavailable(f"clamd at {self._host}:{self._port}: {error}") from error

    async def version(self) -> str:
        """What answers: e.g. "ClamAV 1.0.7/27100/…" (4-1: a scanner is present)."""
        try:
            return await asyncio.wait_for(self._version(), self._timeout)
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
            raise ScanUnavailable(f"clamd at {self._host}:{self._port}: {error}") from error

    async def _version(self) -> str:
        reader, writer = await asyncio.open_connection(self._host, self._port)
        try:
            writer.write(b"zVERSION\0")
            await writer.drain()
            return (await reader.readuntil(b"\0")).rstrip(b"\0").decode()
        finally:
            writer.close()

    async def _scan(self, data: bytes) -> str | None:
        reader, writer = await asyncio.open_connection(self._host, self._port)
        try:
            writer.write(b"zINSTREAM\0")
            for start in range(0, len(data), CHUNK):
                chunk = data[start : start + CHUNK]
                writer.write(struct.pack("!L", len(chunk)) + chunk)
            writer.write(struct.pack("!L", 0))
            await writer.drain()
            answer = (await reader.readuntil(b"\0")).rstrip(b"\0").decode()
        finally:
            writer.close()
        # "stream: OK" or "stream: <signature> FOUND" (or "... ERROR")
        verdict = answer.removeprefix("stream: ")
        if verdict == "OK":
            return None
        if verdict.endswith(" FOUND"):
            return verdict.removesuffix(" FOUND")
        raise ScanUnavailable(f"clamd answered {answer!r}")
