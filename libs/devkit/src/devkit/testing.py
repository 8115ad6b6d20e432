"""Helpers for the integration tests: a service running in-process, a free port."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A service in this process, with its Kafka consumers running, and an HTTP client to it."""
    async with (
        LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager,
        httpx.AsyncClient(
            # Answers as a client over the network gets them: a 500 or 503 is a response.
            transport=httpx.ASGITransport(manager.app, raise_app_exceptions=False),
            base_url="http://service",
        ) as http,
    ):
        yield http


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
