"""Liveness (/healthz: the process answers) and readiness (/readyz: its dependencies answer)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

Check = Callable[[], Awaitable[object]]


def health_router(
    checks: Mapping[str, Check],
    details: Mapping[str, Check] | None = None,
    labels: Mapping[str, str] | None = None,
) -> APIRouter:
    """``details``: figures shown beside the checks (dead letters), which do not decide
    readiness: a service with dead letters still serves. The numeric ones are metrics too, at
    ``/metrics`` in Prometheus' text format, as ``aap_<name>`` with ``labels``."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await asyncio.wait_for(check(), timeout=3)
                results[name] = "ok"
            except Exception as error:
                results[name] = f"failed: {type(error).__name__}: {error}"
        ready = all(v == "ok" for v in results.values())
        shown: dict[str, object] = {}
        for name, figure in (details or {}).items():
            try:
                shown[name] = await asyncio.wait_for(figure(), timeout=3)
            except Exception as error:
                shown[name] = f"unknown: {type(error).__name__}: {error}"
        body = {"ready": ready, "checks": results, "details": shown}
        return JSONResponse(body, status_code=200 if ready else 503)

    @router.get("/metrics", response_class=PlainTextResponse)
    async def metrics() -> str:
        tags = ",".join(f'{k}="{v}"' for k, v in (labels or {}).items())
        lines = []
        for name, figure in (details or {}).items():
            value = await figure()
            if isinstance(value, int | float) and not isinstance(value, bool):
                lines += [f"# TYPE aap_{name} gauge", f"aap_{name}{{{tags}}} {value}"]
        return "\n".join(lines) + "\n"

    return router
