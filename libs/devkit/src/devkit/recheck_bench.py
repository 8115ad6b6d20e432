"""Re-check benchmark: what the table as kept costs per record, with and without what it asks
around the record (the virus re-scan, readers in the worker pool, the year's numbering).

    python -m devkit.recheck_bench [--records 200] [--rounds 5]      (make bench-recheck)

``--records`` vouchers (a JSON export and a one-page PDF each) are archived into a fresh
namespace as accession writes them: originals and package under a COMPLIANCE lock in the real
object store, the record in the real database. ``IntegrityService.findings_of`` then re-checks
them all, as a handover or a batch of the sweep does, first with the record's own items only,
then with the local clamd, the reader pool and the year's completeness. Figures are appended to
bench/results.md.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import time
import uuid
from datetime import UTC, datetime

from archive.adapters.readability import reader_in
from archive.adapters.records import Records
from archive.adapters.years import Years
from archive.completeness import CompletenessService
from archive.domain.archive_code import ArchiveCodeRule
from archive.domain.package import package_documents
from archive.domain.record import archive, object_lock, placement
from archive.integrity import RECHECKS_AT_ONCE as RECHECKS
from archive.integrity import IntegrityService, Surroundings
from contracts.checks import Stage
from devkit import pg_access
from devkit.archive_fakes import AllowEveryone
from devkit.bench import append_result, machine
from devkit.namespace import fresh
from devkit.samples import ingested_document, stored_file, unique_pdf, voucher_summary
from devkit.stack import LOCAL_CLAMD
from devkit.testing import InMemoryUnits, RecordingPublisher
from servicekit import s3
from servicekit.clamd import Clamd
from servicekit.database import Pool
from servicekit.settings import PlatformSettings
from servicekit.workers import WorkerLimits, WorkerPool

RULE = ArchiveCodeRule()


async def seed(platform: PlatformSettings, pool: Pool, count: int) -> list[uuid.UUID]:
    """``count`` vouchers of March 2025, numbered without a gap, archived as accession does."""
    store = s3.ObjectStore(s3.connect(platform), platform.bucket_name("archive-originals"))
    await store.ensure_bucket()
    records, ids = Records(pool), []
    for n in range(1, count + 1):
        export = f'{{"format": "aap.voucher.v1", "n": {n}}}'.encode()
        contents = [
            ("voucher", "voucher.json", "application/json", export),
            ("attachment", "scan.pdf", "application/pdf", unique_pdf()),
        ]
        doc = ingested_document(
            [stored_file(*file) for file in contents],  # type: ignore[arg-type]
            voucher=voucher_summary(voucher_no=f"记-{n:04d}"),
        )
        now = datetime.now(UTC)
        record = archive(doc, placement(doc, RULE), n, RULE, bucket=store.bucket, at=now)
        lock = object_lock(record.retention, record.retention_until, now, record.fiscal_year)
        writes = [
            (kept.object_key, data, kept.media_type)
            for kept, (_, _, _, data) in zip(record.originals, contents, strict=True)
        ]
        versions: dict[str, str | None] = {}
        for key, data, media_type in [*writes, *package_documents(record)]:
            versions[key] = await store.put_locked(
                key, data, media_type, until=lock.until, legal_hold=False
            )
        await records.add(record, versions)
        ids.append(record.record_id)
    return ids


async def measure(
    platform: PlatformSettings, ids: list[uuid.UUID], rounds: int
) -> dict[str, list[float]]:
    """Seconds per round of re-checking every record, for the bare table and the whole one."""
    store = s3.ObjectStore(s3.connect(platform), platform.bucket_name("archive-originals"))
    readers = WorkerPool(WorkerLimits(), preload=["archive.adapters.readability"])
    await readers.start()
    try:
        async with pg_access.opened(platform, "archive") as pool:
            records = Records(pool)
            years = CompletenessService(
                Years(pool), RecordingPublisher(), AllowEveryone(), "/bench", InMemoryUnits(), {}
            )
            whole = Surroundings(Clamd(LOCAL_CLAMD), reader_in(readers), years.year)
            variants = {
                "the record's own items": Surroundings(),
                "with clamd, readers and the year": whole,
            }
            timings: dict[str, list[float]] = {name: [] for name in variants}
            for _ in range(rounds):
                for name, around in variants.items():
                    service = IntegrityService(
                        records, store, RecordingPublisher(), AllowEveryone(), RULE, "/bench",
                        around,
                    )  # fmt: skip
                    t0 = time.perf_counter()
                    found = await service.findings_of(ids, Stage.HANDOVER)
                    timings[name].append(time.perf_counter() - t0)
                    assert not any(found.values()), found  # nothing wrong with what was seeded
            return timings
    finally:
        await readers.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    platform = fresh("recheck" + secrets.token_hex(2))

    async def seeded() -> list[uuid.UUID]:
        async with pg_access.opened(platform, "archive") as pool:
            return await seed(platform, pool, args.records)

    ids = asyncio.run(seeded())
    timings = asyncio.run(measure(platform, ids, args.rounds))
    base = statistics.median(timings["the record's own items"])
    rows = [
        f"| {name} | {statistics.median(t) * 1000 / args.records:.1f} ms | "
        f"{args.records / statistics.median(t):.0f} | {statistics.median(t) / base:.1f}× |"
        for name, t in timings.items()
    ]
    text = "\n".join(
        [
            f"## Re-check as kept — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            "",
            f"Machine: {machine()}; MinIO, PostgreSQL and clamd local; `python -m "
            f"devkit.recheck_bench --records {args.records} --rounds {args.rounds}`.",
            "",
            f"{args.records} vouchers (a JSON export and a one-page PDF each, locked), re-checked "
            f"{RECHECKS} at a time with the handover's table (`IntegrityService.findings_of`); "
            "medians of the rounds:",
            "",
            "| table | per record | records/s | vs own items |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )
    append_result(text)


if __name__ == "__main__":
    main()
