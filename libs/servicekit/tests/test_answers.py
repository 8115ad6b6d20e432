"""A dependency down is answered 503 with Retry-After on a connection that stays open.

Measured in an outage: with the handler registered for ``Exception`` only, Starlette sent the
503 and raised again, uvicorn logged a traceback and closed the connection, so an ERP saw half
its refusals as bare connection resets. Served here by a real uvicorn on loopback."""

from __future__ import annotations

import asyncio

import httpx
import psycopg
import uvicorn
from fastapi import FastAPI, Request

from devkit.testing import free_port
from servicekit.service import answer_errors


async def test_a_dependency_down_is_a_503_on_a_connection_kept_open() -> None:
    app = FastAPI()
    answer_errors(app, {})

    @app.get("/port")
    async def port(request: Request) -> int:
        assert request.client is not None
        return request.client.port

    @app.get("/down")
    async def down() -> None:
        raise psycopg.OperationalError("connection refused")

    @app.get("/bug")
    async def bug() -> None:
        raise RuntimeError("a bug")

    server = uvicorn.Server(uvicorn.Config(app, port=free_port(), log_level="critical"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
            await asyncio.sleep(0.01)
        base = f"http://127.0.0.1:{server.config.port}"
        async with httpx.AsyncClient(base_url=base) as http:
            before = (await http.get("/port")).json()
            refused = await http.get("/down")
            after = (await http.get("/port")).json()
            broken = await http.get("/bug")
    finally:
        server.should_exit = True
        await serving
    assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
    assert refused.json()["detail"] == "database unavailable, nothing done: OperationalError"
    assert before == after  # the same connection: not closed under the client
    assert broken.status_code == 500 and broken.json()["detail"] == "internal error"
