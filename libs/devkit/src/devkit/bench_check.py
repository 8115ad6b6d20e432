"""Benchmark of the permission check as the archive asks it: over HTTP, each request carrying a
real access token that the permission service validates, at a steady rate.

    python -m devkit.bench_check [--rate 500] [--seconds 30]      (make bench-check)

Runs the permission service as a process against the local infrastructure, in a namespace of
its own with records known to it, sends checks open-loop (each at its own instant, whether or
not the earlier ones have been answered, so a slow answer cannot slow the load down), and
appends p50/p99 latency and the rate reached, with the machine and the date, to
bench/results.md. The goal the Trust I issue sets: p99 ≤ 5 ms at 500 checks/s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime

import httpx

from devkit import pg_access
from devkit.bench import ROOT, append_result, machine
from devkit.identity import as_user, subject_of
from devkit.namespace import fresh
from devkit.stack import ARCHIVIST, LocalStack
from servicekit.settings import PlatformSettings

RECORDS = 1000  # records the permission service knows, half in the archivist's fonds


async def known_records(platform: PlatformSettings) -> list[uuid.UUID]:
    """Records as the permission service learns them from RecordArchived: seeded straight into
    its store here, since the benchmark measures the check, not the archiving."""
    ids = [uuid.uuid4() for _ in range(RECORDS)]
    async with pg_access.opened(platform, "permission") as pool, pool.connection() as conn:
        await conn.execute(
            "INSERT INTO record_scopes (record_id, fonds_code) "
            "SELECT unnest(%s::uuid[]), unnest(%s::text[])",
            (ids, ["Q001" if n % 2 else "Q002" for n in range(len(ids))]),
        )
    return ids


async def load(url: str, records: list[uuid.UUID], rate: int, seconds: int) -> dict[str, float]:
    headers = as_user("client:aap-archive")  # the archive's own token, as it asks
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits) as http:

        async def one(n: int) -> None:
            nonlocal failures
            params = {
                "user": ARCHIVIST,
                "subject": subject_of(ARCHIVIST),
                "action": "read",
                "resource": f"record:{records[n % RECORDS]}",
            }
            started = time.perf_counter()
            r = await http.get("/v1/check", params=params, timeout=10)
            latencies.append((time.perf_counter() - started) * 1000)
            failures += r.status_code != 200

        for n in range(rate):  # warm up: connections open, keys fetched, caches filled
            await one(n)
        latencies.clear()
        total = rate * seconds
        start = time.perf_counter()
        tasks = []
        for n in range(total):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    ordered = sorted(latencies)
    return {
        "checks": float(total),
        "rate": total / elapsed,
        "p50": statistics.median(ordered),
        "p99": ordered[int(0.99 * (len(ordered) - 1))],
        "max": ordered[-1],
        "failures": float(failures),
    }


def report(f: dict[str, float], rate: int, seconds: int) -> str:
    return "\n".join(
        [
            "## Permission check over HTTP with token validation — "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            "",
            f"Machine: {machine()}; PostgreSQL local; `make bench-check`.",
            "",
            f"Open-loop load: {rate} checks/s asked for {seconds} s ({f['checks']:.0f} checks, "
            f"{f['rate']:.0f}/s reached), each with the archive's real access token, "
            f"{RECORDS} records known, an archivist's role.",
            "",
            "| p50 | p99 | max | failures |",
            "|---|---|---|---|",
            f"| {f['p50']:.2f} ms | {f['p99']:.2f} ms | {f['max']:.1f} ms | {f['failures']:.0f} |",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=30)
    args = parser.parse_args()
    platform = fresh("check")
    records = asyncio.run(known_records(platform))
    stack = LocalStack(
        ROOT / ".local" / "logs" / platform.namespace, env={"AAP_LOG_LEVEL": "WARNING"}
    )
    stack.start("permission")
    try:
        stack.wait_ready("permission")
        figures = asyncio.run(load(stack.url("permission"), records, args.rate, args.seconds))
    finally:
        stack.stop_all()
    text = report(figures, args.rate, args.seconds)
    append_result(text)


if __name__ == "__main__":
    main()
