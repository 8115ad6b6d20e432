"""The audit log's evidence, measured: offline verification of an export, durable appends
(entry and tree nodes) through the appender and through Kafka, and proofs.

    python -m devkit.audit_bench [--entries 100000] [--appends 3000] [--kafka 20000]
                                 [--proofs 100000]

Appends go through ``AuditService.record_all`` on the local PostgreSQL, one event per write and
in the consumer's batches, without Kafka in between; then the whole path: events waiting on
Kafka, the audit service started as a process, its entries' own times. Proofs are asked of the
service over a log seeded through the appender. Medians of three runs for the appends.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from audit.adapters.consumers import BATCH
from audit.adapters.log_store import LogStore
from audit.adapters.tree_store import TreeNodes
from audit.service import AuditService
from contracts.checkpoint import Checkpoint, Signer
from contracts.envelope import AnyEnvelope
from contracts.merkle import Frontier
from contracts.topics import ROLES_ASSIGNED
from contracts.trail import GENESIS_HASH, canonical, entry_hash, leaf_of
from contracts.verify_trail import verify_export
from devkit import pg_access
from devkit.kafka_access import security
from devkit.namespace import as_local_administrator, fresh
from devkit.stack import LocalStack
from devkit.watch import consumed
from servicekit.settings import PlatformSettings

ROOT = Path(__file__).resolve().parents[4]


def export(n: int) -> tuple[list[bytes], Frontier]:
    """An export of ``n`` entries shaped as the archive's RecordArchived entries."""
    lines, frontier, prev = [], Frontier(), GENESIS_HASH
    for i in range(n):
        record = f"{i:032x}"
        entry: dict[str, Any] = {
            "seq": i + 1,
            "event_id": str(uuid.uuid4()),
            "event_type": "cn.aap.RecordArchived.v1",
            "source": "/aap/archive",
            "subject": record,
            "actor": "王强",
            "time": "2026-11-29T03:00:00.000000Z",
            "correlation_id": "c",
            "causation_id": None,
            "traceparent": None,
            "record_ids": [record],
            "fonds_codes": ["Q001"],
            "data": {
                "record_id": record,
                "archive_code": f"Q001-2025-D30-PZ-{i:06d}",
                "amount": "1280.00",
                "summary": "报销市场部张伟北京出差差旅费",
            },
            "recorded_at": "2026-11-29T03:00:00.000000Z",
            "prev_hash": prev,
        }
        entry["hash"] = prev = entry_hash(entry)
        lines.append(canonical(entry))
        frontier.append(leaf_of(entry))
    return lines, frontier


def offline(n: int) -> str:
    lines, frontier = export(n)
    signer = Signer.generate("aap.bench.audit")
    note = Checkpoint("aap.bench.audit", n, frontier.root(), datetime.now(UTC)).signed(signer)
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        assert verify_export(lines, signer.verifier(), [note]).ok
        runs.append(time.perf_counter() - started)
    size = sum(map(len, lines)) / n
    return (
        f"offline verification: {n} entries ({size:.0f} bytes each), median "
        f"{statistics.median(runs):.2f} s = {n / statistics.median(runs):,.0f} entries/s"
    )


def role_assigned(i: int) -> AnyEnvelope:
    return AnyEnvelope(
        id=uuid.uuid4(),
        source="/aap/permission",
        type="cn.aap.RoleAssigned.v1",
        time=datetime.now(UTC),
        subject=f"u-{i}",
        correlationid="c",
        actor="安全管理员",
        data={"user": f"u-{i}", "role": "auditor", "fonds_code": "Q9"},
    )


async def appends(n: int, batch: int) -> str:
    """``batch`` events per write, as the consumer hands them over (1: one at a time)."""
    as_local_administrator()
    platform = PlatformSettings()
    rates = []
    for _ in range(3):
        async with pg_access.scratch(platform, "audit") as db:
            service = AuditService(LogStore(db), TreeNodes(db))
            await service.start(0)
            events = [(role_assigned(i), ("bench", 0, i)) for i in range(n)]
            started = time.perf_counter()
            for i in range(0, n, batch):
                await service.record_all(events[i : i + batch])
            rates.append(n / (time.perf_counter() - started))
    rate = statistics.median(rates)
    return f"durable appends (entry + tree nodes), {batch} per write: {n} events, {rate:,.0f}/s"


async def proofs(n: int, asked: int = 1000) -> str:
    """Inclusion and consistency proofs over a log of ``n`` entries seeded through the
    appender (batches of the consumer's size), asked of the service with its stored nodes; and
    how long a service started over that log takes to be ready (its tree rebuilt)."""
    as_local_administrator()
    platform = PlatformSettings()
    async with pg_access.scratch(platform, "audit") as db:
        service = AuditService(LogStore(db), TreeNodes(db))
        await service.start(0)
        for i in range(0, n, BATCH):
            await service.record_all(
                [(role_assigned(j), ("bench", 0, j)) for j in range(i, min(n, i + BATCH))]
            )
        started = time.perf_counter()
        await AuditService(LogStore(db), TreeNodes(db)).start(n)  # a restart, all published
        ready = time.perf_counter() - started
        rng = random.Random(7)  # noqa: S311 - positions to prove, repeatable; no secret
        timings: dict[str, list[float]] = {"inclusion": [], "consistency": []}
        for _ in range(asked):
            seq, first = rng.randint(1, n), rng.randint(1, n - 1)
            started = time.perf_counter()
            await service.inclusion(seq, n)
            timings["inclusion"].append(time.perf_counter() - started)
            started = time.perf_counter()
            await service.consistency(first, n)
            timings["consistency"].append(time.perf_counter() - started)
    shown = []
    for kind, runs in timings.items():
        q = statistics.quantiles(runs, n=100)
        shown.append(f"{kind} p50 {q[49] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms")
    shown.append(f"a service started over them ready in {ready:.1f} s")
    return f"proofs over {n:,} entries ({asked} each, in the service): " + "; ".join(shown)


async def publish(platform: PlatformSettings, n: int) -> None:
    """``n`` RoleAssigned events on their topic, all sent before the audit service starts."""
    producer = AIOKafkaProducer(
        bootstrap_servers=platform.kafka_bootstrap, acks="all", linger_ms=20, **security()
    )
    await producer.start()
    try:
        sent = []
        for i in range(n):
            event = role_assigned(i).model_dump_json().encode()
            sent.append(await producer.send(ROLES_ASSIGNED.name(platform.namespace), event))
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def entries_recorded(platform: PlatformSettings) -> tuple[int, float]:
    """How many entries the audit log holds, and the seconds from its first to its last."""
    async with pg_access.opened(platform, "audit") as pool, pool.connection() as conn:
        found = await conn.execute("SELECT entry::jsonb ->> 'recorded_at' AS at FROM entries")
        times = [r["at"] for r in await found.fetchall()]
    stamps = sorted(datetime.fromisoformat(t) for t in times)
    return len(stamps), (stamps[-1] - stamps[0]).total_seconds()


def through_kafka(n: int) -> str:
    """The whole path: ``n`` events waiting on Kafka, then the audit service (a process of its
    own, as deployed) started; the rate is its entries' own ``recorded_at``, first to last."""
    platform = fresh("auditbench")
    asyncio.run(publish(platform, n))
    stack = LocalStack(
        ROOT / ".local" / "logs" / platform.namespace, env={"AAP_LOG_LEVEL": "WARNING"}
    )
    stack.start("audit")
    try:
        asyncio.run(
            consumed(platform.kafka_bootstrap, platform.namespace, "audit", [ROLES_ASSIGNED])
        )
    finally:
        stack.stop_all()
    count, seconds = asyncio.run(entries_recorded(platform))
    assert count == n, f"{count} entries for {n} events"
    return (
        f"durable appends through Kafka and the audit consumer (batches of {BATCH}): {n} events, "
        f"{(n - 1) / seconds:,.0f} entries/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--appends", type=int, default=3000)
    parser.add_argument("--proofs", type=int, default=100_000, help="entries to prove over")
    parser.add_argument("--kafka", type=int, default=20_000, help="events through Kafka")
    args = parser.parse_args()
    print(offline(args.entries), flush=True)
    print(asyncio.run(appends(args.appends, 1)), flush=True)
    print(asyncio.run(appends(args.appends, BATCH)), flush=True)
    print(through_kafka(args.kafka), flush=True)
    print(asyncio.run(proofs(args.proofs)))


if __name__ == "__main__":
    main()
