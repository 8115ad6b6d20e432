"""Completeness benchmark: how long the archive takes to say what a year lacks (GET
/v1/completeness, and every handover's check) when the year holds many vouchers.

    python -m devkit.completeness_bench [--vouchers 100000] [--rounds 10]  (make bench-completeness)

The year is written straight into the archive's database of a fresh namespace, as the archive
stores it: ``--vouchers`` vouchers over twelve months (one number in a thousand missing, one in
ten booking one of three bank accounts), the ledgers, eleven of twelve monthly reports and the
statements of two accounts. The use case then runs in this process against the real server,
as the archive's runtime role. Figures are appended to bench/results.md.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import time
from datetime import UTC, datetime

from archive.adapters.years import Years
from archive.completeness import CompletenessService
from devkit import pg_access
from devkit.archive_fakes import AllowEveryone
from devkit.bench import append_result, machine
from devkit.namespace import fresh
from devkit.testing import InMemoryUnits, RecordingPublisher
from servicekit.auth import Person
from servicekit.settings import PlatformSettings

FONDS, YEAR = "B001", 2025
SEED = [
    # Vouchers: numbered per month, one in a thousand missing; one in ten books a bank account.
    "INSERT INTO records (record_id, archive_code, fonds_code, fiscal_year, period, voucher_no, "
    "category, archived_at, retention_until, review_required, versions, awaiting_review, "
    "bank_accounts, event) SELECT gen_random_uuid(), 'B-' || i, %(fonds)s, %(year)s, "
    "1 + i %% 12, '记-' || lpad((i / 12)::text, 6, '0'), 'bookkeeping_voucher', now(), "
    "date '2055-12-31', false, '[]', false, CASE WHEN i %% 10 = 0 THEN jsonb_build_array("
    "jsonb_build_object('code', '10020' || i %% 3, 'name', '银行存款')) END, '{}' "
    "FROM generate_series(12, %(vouchers)s + 11) i WHERE (i / 12) %% 1000 <> 999",
    # The ledgers (a year each), the monthly reports but December's, two accounts' statements.
    "INSERT INTO records (record_id, archive_code, fonds_code, fiscal_year, period, category, "
    "archived_at, retention_until, review_required, versions, awaiting_review, period_from, "
    "bank_account, event) SELECT gen_random_uuid(), 'M-' || k || '-' || m, %(fonds)s, "
    "%(year)s, CASE WHEN k IN ('general_ledger', 'subsidiary_ledger', 'journal') THEN 12 ELSE m "
    "END, CASE WHEN k LIKE 'bank_statement%%' THEN 'bank_statement' ELSE k END, now(), "
    "date '2055-12-31', false, '[]', false, CASE WHEN k IN ('general_ledger', "
    "'subsidiary_ledger', 'journal') THEN 1 ELSE m END, CASE k WHEN 'bank_statement0' THEN "
    "'100200' WHEN 'bank_statement1' THEN '100201' END, '{}' FROM unnest(ARRAY["
    "'general_ledger', 'subsidiary_ledger', 'journal', 'periodic_financial_report', "
    "'bank_statement0', 'bank_statement1']) k, generate_series(1, 11) m "
    "WHERE m = 1 OR k NOT IN ('general_ledger', 'subsidiary_ledger', 'journal')",
]


async def seed(platform: PlatformSettings, vouchers: int) -> None:
    """As the archive's runtime role, which inserts records."""
    async with pg_access.opened(platform, "archive") as pool, pool.connection() as conn:
        for statement in SEED:
            await conn.execute(statement, {"fonds": FONDS, "year": YEAR, "vouchers": vouchers})


async def measure(platform: PlatformSettings, rounds: int) -> tuple[list[float], int]:
    async with pg_access.opened(platform, "archive") as pool:
        service = CompletenessService(
            Years(pool), RecordingPublisher(), AllowEveryone(), "/bench", InMemoryUnits(), {}
        )
        timings, gaps = [], 0
        for _ in range(rounds):
            t0 = time.perf_counter()
            found = await service.report(FONDS, YEAR, Person("bench", "bench"))
            timings.append((time.perf_counter() - t0) * 1000)
            gaps = len(found.gaps)
        return timings, gaps


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--vouchers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    platform = fresh("years" + secrets.token_hex(2))
    t0 = time.monotonic()
    asyncio.run(seed(platform, args.vouchers))
    seeded = time.monotonic() - t0
    timings, gaps = asyncio.run(measure(platform, args.rounds))
    text = "\n".join(
        [
            f"## Completeness of a year — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            "",
            f"Machine: {machine()}; PostgreSQL local; `python -m devkit.completeness_bench "
            f"--vouchers {args.vouchers} --rounds {args.rounds}` (seeded in {seeded:.0f} s).",
            "",
            f"A year of {args.vouchers} vouchers over 12 months, its ledgers, reports and "
            f"statements; {gaps} gaps found each time (numbering, December's report, a third "
            "account's statements, the annual report). `CompletenessService.report` in-process "
            "against the real server, as the archive's runtime role:",
            "",
            "| p50 | max | rounds |",
            "|---|---|---|",
            f"| {statistics.median(timings):.0f} ms | {max(timings):.0f} ms | {args.rounds} |",
            "",
        ]
    )
    append_result(text)


if __name__ == "__main__":
    main()
