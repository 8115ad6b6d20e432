"""Search benchmark: latency of the archive's search API over many archived records.

    python -m devkit.search_bench --records 100000 [--queries 20]     (make bench-search N=100000)

The records are written straight into the archive's database of a fresh namespace (the way the
archive itself stores them), because pushing 100,000 uploads through the pipeline would measure
the pipeline, not search. The archive and permission services then run as processes and each
kind of query is asked repeatedly through HTTP. Figures are appended to bench/results.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from archive.adapters.records import Records
from archive.domain.archive_code import ArchiveCodeRule
from archive.domain.record import archive, placement
from contracts.events import RecordArchived
from contracts.records import InvoiceRef, StoredFile
from contracts.types import Money
from devkit import pg_access
from devkit.bench import ROOT, append_result, machine, quantile
from devkit.identity import as_user
from devkit.namespace import as_local_administrator, provision
from devkit.samples import ingested_document, voucher_summary
from devkit.stack import AUDITOR, LocalStack
from servicekit.settings import PlatformSettings

SUMMARIES = [
    "报销差旅费",
    "采购办公用品",
    "支付货款",
    "收到货款",
    "计提工资",
    "缴纳增值税",
    "支付房租",
    "计提折旧",
]
SELLERS = [
    "北京国贸嘉华酒店管理有限公司",
    "上海立信办公用品有限公司",
    "杭州禾木贸易有限公司",
    "中国东方航空股份有限公司",
]


def sample_record(n: int, rule: ArchiveCodeRule) -> RecordArchived:
    rng = random.Random(n)  # noqa: S311 - sample data, not secrets
    year, period = 2020 + n % 6, 1 + n % 12
    amount = Decimal(rng.randint(100, 10_000_000)) / 100
    seller = rng.choice(SELLERS)
    sha = f"{n:064x}"
    f = StoredFile(
        role="voucher",
        filename="v.json",
        media_type="application/json",
        size=1,
        bucket="b",
        object_key=f"k/{n}",
        sha256=sha,
        sm3=sha,
    )
    invoice = InvoiceRef(
        invoice_number=f"2531{n:016d}",
        seller_tax_id="91110105MA01ABCD2X",
        buyer_tax_id="91310115MA1K4XYZ0P",
        seller_name=seller,
        buyer_name="上海澄明科技有限公司",
        issue_date=f"{year}-{period:02d}-01",
        total=Money(amount=amount),
        file_sha256=sha,
    )
    doc = ingested_document(
        [f],
        document_id=uuid.UUID(int=n + 1),
        fonds_code=f"Q{n % 5:03d}",
        fiscal_year=year,
        period=period,
        voucher=voucher_summary(
            voucher_no=f"记-{n % 997 + 1:04d}",
            voucher_date=f"{year}-{period:02d}-15",
            summary=f"{rng.choice(SUMMARIES)}（第{n}笔）",
            total=Money(amount=amount),
        ),
        submitted_by="bench",
        invoices=(invoice,),
    )
    return archive(doc, placement(doc, rule), n + 1, rule, bucket="b", at=datetime.now(UTC))


async def seed(platform: PlatformSettings, count: int) -> None:
    async with pg_access.opened(platform, "archive") as pool:
        await _seed(Records(pool), count)


async def _seed(records: Records, count: int) -> None:
    rule = ArchiveCodeRule()
    started = time.monotonic()
    for start in range(0, count, 1000):
        await asyncio.gather(
            *(
                records.add(sample_record(n, rule), {})
                for n in range(start, min(count, start + 1000))
            )
        )
        if start % 10_000 == 0:
            print(f"  seeded {start} records ({time.monotonic() - started:.0f} s)", flush=True)


QUERIES: dict[str, dict[str, Any]] = {
    "fonds + year": {"fonds_code": "Q001", "fiscal_year": 2023},
    "fonds + year + period + voucher no": {
        "fonds_code": "Q001",
        "fiscal_year": 2021,
        "period": 2,
        "voucher_no": "记-0011",
    },
    "invoice number": {"invoice_number": "25310000000000004242"},
    "amount range": {"fonds_code": "Q002", "amount_min": "5000.00", "amount_max": "5100.00"},
    "summary text 差旅费": {"fonds_code": "Q003", "fiscal_year": 2024, "q": "差旅费"},
    "counterparty 禾木": {"fonds_code": "Q004", "fiscal_year": 2022, "counterparty": "禾木"},
}


async def measure(url: str, rounds: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {name: [] for name in QUERIES}
    async with httpx.AsyncClient(base_url=url, timeout=120, headers=as_user(AUDITOR)) as http:
        for _ in range(rounds):
            for name, params in QUERIES.items():
                t0 = time.perf_counter()
                r = await http.get("/v1/records", params={**params, "limit": 20})
                r.raise_for_status()
                timings[name].append((time.perf_counter() - t0) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=20, help="rounds of every kind of query")
    parser.add_argument("--reuse", metavar="NAMESPACE", help="measure a namespace seeded before")
    args = parser.parse_args()
    namespace = args.reuse or "search" + secrets.token_hex(3)
    os.environ["AAP_NAMESPACE"] = namespace
    as_local_administrator()
    platform = PlatformSettings()
    asyncio.run(provision(platform, namespace))
    print(f"seeding {args.records} records into namespace {namespace!r}", flush=True)
    t0 = time.monotonic()
    if not args.reuse:
        asyncio.run(seed(platform, args.records))
    seeded = time.monotonic() - t0
    stack = LocalStack(ROOT / ".local" / "logs" / namespace, env={"AAP_LOG_LEVEL": "WARNING"})
    t1 = time.monotonic()
    stack.start_all(timeout=1800)  # the archive is ready once its search index is filled
    started = time.monotonic() - t1
    try:
        timings = asyncio.run(measure(stack.url("archive"), args.queries))
    finally:
        stack.stop_all()
    every = [t for ts in timings.values() for t in ts]
    lines = [
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — search over {args.records} records, {args.queries} rounds",
        f"Machine: {machine()}; PostgreSQL local. "
        + (
            f"Records seeded before (namespace {namespace}); "
            if args.reuse
            else f"Seeding took {seeded:.0f} s; "
        )
        + f"the services were ready (search index filled) {started:.0f} s after start.",
        "",
        "| query | p50 (ms) | p95 (ms) | max (ms) |",
        "|---|---|---|---|",
        *(
            f"| {name} | {statistics.median(ts):.0f} | {quantile(ts, 0.95):.0f} | {max(ts):.0f} |"
            for name, ts in timings.items()
        ),
        f"| all | {statistics.median(every):.0f} | {quantile(every, 0.95):.0f} | {max(every):.0f} |",
        "",
    ]
    text = "\n".join(lines)
    append_result(text)


if __name__ == "__main__":
    main()
