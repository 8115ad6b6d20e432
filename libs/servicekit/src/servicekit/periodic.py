"""Work a service repeats on a schedule while it runs (expiring grants, re-check sweeps)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger()


class Periodic:
    """Runs ``work`` every ``every_seconds`` (0: never) between ``start`` and ``stop``.

    A failing run is logged and the next one comes on time: one bad sweep stops nothing.
    """

    def __init__(
        self,
        name: str,
        work: Callable[[], Awaitable[object]],
        every_seconds: float,
        *,
        first_at_start: bool,
    ) -> None:
        self._name = name
        self._work = work
        self._every = every_seconds
        self._first_at_start = first_at_start
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._every > 0:
            self._task = asyncio.create_task(self._loop(), name=self._name)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        if not self._first_at_start:
            await asyncio.sleep(self._every)
        while True:
            try:
                result = await self._work()
                log.debug("periodic work done", work=self._name, result=result)
            except Exception:
                log.exception("periodic work failed; will run again", work=self._name)
            await asyncio.sleep(self._every)
