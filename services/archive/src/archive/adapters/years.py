"""Archive's own database, the completeness part: what a fonds holds of a year (voucher numbers
by month, materials with their months, bank accounts booked), and the gaps archivists waived."""

from __future__ import annotations

from collections import defaultdict

from archive.domain.completeness import Kept
from contracts.events import GapWaived
from contracts.records import BankAccount, RecordCategory
from servicekit.database import Pool


class Years:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def voucher_numbers(self, fonds_code: str, fiscal_year: int) -> dict[int, list[str]]:
        """Month → the numbers of the year's vouchers (not those archived as a -V2 version)."""
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT period, voucher_no FROM records WHERE fonds_code = %s "
                "AND fiscal_year = %s AND voucher_no IS NOT NULL AND superseded_by IS NULL",
                (fonds_code, fiscal_year),
            )
            by_month: dict[int, list[str]] = defaultdict(list)
            for row in await found.fetchall():
                by_month[int(row["period"])].append(row["voucher_no"])
            return dict(by_month)

    async def materials(self, fonds_code: str, fiscal_year: int) -> list[Kept]:
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT category, period_from, period, bank_account FROM records "
                "WHERE fonds_code = %s AND fiscal_year = %s AND period_from IS NOT NULL",
                (fonds_code, fiscal_year),
            )
            return [
                Kept(
                    RecordCategory(r["category"]), r["period_from"], r["period"], r["bank_account"]
                )
                for r in await found.fetchall()
            ]

    async def bank_accounts(self, fonds_code: str, fiscal_year: int) -> list[BankAccount]:
        """The 银行存款 accounts the year's vouchers book, each once (the first name seen)."""
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT DISTINCT ON (a->>'code') a->>'code' AS code, a->>'name' AS name "
                "FROM records, jsonb_array_elements(bank_accounts) AS a "
                "WHERE fonds_code = %s AND fiscal_year = %s AND bank_accounts IS NOT NULL "
                "ORDER BY a->>'code', archived_at",
                (fonds_code, fiscal_year),
            )
            return [BankAccount(code=r["code"], name=r["name"]) for r in await found.fetchall()]

    async def waive(self, waived: GapWaived) -> bool:
        """Keep a waiver; False if the gap was waived already (the first waiver stands)."""
        async with self._pool.connection() as conn:
            kept = await conn.execute(
                "INSERT INTO gap_waivers (fonds_code, fiscal_year, gap, event) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (waived.fonds_code, waived.fiscal_year, waived.gap, waived.model_dump_json()),
            )
            return kept.rowcount == 1

    async def waivers(self, fonds_code: str, fiscal_year: int) -> list[GapWaived]:
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT event FROM gap_waivers WHERE fonds_code = %s AND fiscal_year = %s "
                "ORDER BY gap",
                (fonds_code, fiscal_year),
            )
            return [GapWaived.model_validate_json(r["event"]) for r in await found.fetchall()]
