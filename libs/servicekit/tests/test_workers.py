"""The worker pool: a runaway parse is killed and replaced, and the service goes on serving."""

from __future__ import annotations

import asyncio
import time

import pytest

from devkit.runaway import hog, parse, spin
from servicekit.workers import LimitExceeded, WorkerFailed, WorkerLimits, WorkerPool

LIMITS = WorkerLimits(workers=2, memory_bytes=512 * 2**20, seconds=2)


async def test_a_runaway_call_is_killed_and_the_next_is_served() -> None:
    pool = WorkerPool(LIMITS)
    try:
        assert await pool.run(parse, "42") == 42
        ticks = 0

        async def heartbeat() -> None:  # what /healthz would be doing meanwhile
            nonlocal ticks
            while True:
                await asyncio.sleep(0.05)
                ticks += 1

        beating = asyncio.create_task(heartbeat())
        started = time.monotonic()
        with pytest.raises(LimitExceeded, match="time limit of 2 s"):
            await pool.run(spin)
        elapsed = time.monotonic() - started
        beating.cancel()
        assert ticks >= elapsed / 0.05 * 0.5  # the loop kept running throughout
        with pytest.raises(LimitExceeded, match="memory limit of 512 MiB"):
            await pool.run(hog)
        # Both workers still serve, two calls at once.
        assert list(await asyncio.gather(pool.run(parse, "1"), pool.run(parse, "2"))) == [1, 2]
    finally:
        await pool.close()


async def test_an_exception_in_the_function_comes_back_named() -> None:
    pool = WorkerPool(LIMITS)
    try:
        with pytest.raises(WorkerFailed, match="ValueError: invalid literal"):
            await pool.run(parse, "四十二")
        assert await pool.run(parse, "7") == 7
    finally:
        await pool.close()
