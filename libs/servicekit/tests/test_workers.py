"""The worker pool: a runaway parse is killed and replaced, and the service goes on serving."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
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


def test_a_worker_holds_none_of_the_services_secrets() -> None:
    """A parser exploited by a hostile file reads its environment: the database's password,
    Kafka's, S3's and the IdP client's are not in it. In a process of its own, whose fork
    server this pool starts (the one of this test process may be started already)."""
    script = (
        "import asyncio\n"
        "from devkit.runaway import environment\n"
        "from servicekit.workers import WorkerLimits, WorkerPool\n"
        "async def main():\n"
        "    pool = WorkerPool(WorkerLimits(workers=1))\n"
        "    try:\n"
        "        print(' '.join(await pool.run(environment)))\n"
        "    finally:\n"
        "        await pool.close()\n"
        "asyncio.run(main())\n"
    )
    secrets = {
        "AAP_INGEST_DATABASE_PASSWORD": "db",
        "AAP_KAFKA_PASSWORD": "kafka",
        "AAP_S3_SECRET_KEY": "s3",
        "AAP_INGEST_OIDC_CLIENT_SECRET": "idp",
    }
    env = os.environ | secrets | {"AAP_NAMESPACE": "workers"}
    ran = subprocess.run(  # noqa: S603 - this interpreter, a script of this test
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    names = set(ran.stdout.split())
    assert "AAP_NAMESPACE" in names  # the environment is there…
    assert names.isdisjoint(secrets)  # …without a secret
