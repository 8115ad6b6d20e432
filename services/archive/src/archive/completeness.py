"""Archive's use cases for a complete year (齐全完整): what a fonds' year lacks, and an
archivist's waiver of a gap with a reason (a fact the audit log keeps and the 移交清册 lists)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date

from archive.domain.completeness import Completeness, YearContents, completeness
from archive.domain.lifecycle import NotFound
from archive.ports import Permissions, Publisher, YearBooks
from contracts.envelope import new_event
from contracts.events import GapWaived
from contracts.records import BankAccount
from contracts.roles import Action
from contracts.types import utc_now
from servicekit.auth import Person
from servicekit.database import UnitOfWork


class CompletenessService:
    def __init__(
        self,
        years: YearBooks,
        publisher: Publisher,
        permissions: Permissions,
        source: str,
        unit: UnitOfWork,
        bank_accounts: Mapping[str, Sequence[str]],
        today: Callable[[], date] = lambda: utc_now().date(),
    ) -> None:
        self._years = years
        self._publisher = publisher
        self._permissions = permissions
        self._source = source
        self._unit = unit
        self._configured = (
            bank_accounts  # fonds → 银行存款 account codes it must have statements of
        )
        self._today = today

    async def report(self, fonds_code: str, fiscal_year: int, user: Person) -> Completeness:
        """What the year lacks, month by month, and which gaps were waived and why."""
        await self._permissions.require_fonds(user, "read", fonds_code)
        found, _ = await self.of_year(fonds_code, fiscal_year)
        return found

    async def year(self, fonds_code: str, fiscal_year: int) -> Completeness:
        """The year's completeness, for the re-check (which checked the caller)."""
        return (await self.of_year(fonds_code, fiscal_year))[0]

    async def of_year(
        self, fonds_code: str, fiscal_year: int
    ) -> tuple[Completeness, list[GapWaived]]:
        """The year's completeness and its waivers (for the handover, which checked the caller)."""
        waivers = await self._years.waivers(fonds_code, fiscal_year)
        contents = YearContents(
            voucher_numbers=await self._years.voucher_numbers(fonds_code, fiscal_year),
            materials=await self._years.materials(fonds_code, fiscal_year),
            bank_accounts=await self._accounts(fonds_code, fiscal_year),
            year_over=self._today() > date(fiscal_year, 12, 31),
        )
        found = completeness(fonds_code, fiscal_year, contents, {w.gap: w.reason for w in waivers})
        return found, [w for w in waivers if w.gap in found.waived]

    async def _accounts(self, fonds_code: str, fiscal_year: int) -> list[BankAccount]:
        """The accounts configured for the fonds and those its vouchers book, each once."""
        seen = {a.code: a for a in await self._years.bank_accounts(fonds_code, fiscal_year)}
        for code in self._configured.get(fonds_code, ()):
            seen.setdefault(code, BankAccount(code=code))
        return [seen[code] for code in sorted(seen)]

    async def waive(
        self, fonds_code: str, fiscal_year: int, gaps: Sequence[str], reason: str, user: Person
    ) -> list[GapWaived]:
        """An archivist accepts the year without these gaps, for ``reason``. Each must be a gap
        the year has now (NotFound naming those it has not); one waived before keeps its first
        waiver, which is answered again."""
        await self._permissions.require_fonds(user, Action.ACCEPT_HANDOVER, fonds_code)
        found, before = await self.of_year(fonds_code, fiscal_year)
        by_id = {g.id: g for g in found.gaps}
        if unknown := [g for g in gaps if g not in by_id]:
            raise NotFound(
                f"{fonds_code} {fiscal_year} has no gap {', '.join(unknown)}: "
                "GET /v1/completeness names its gaps"
            )
        waived_before = {w.gap for w in before}
        for gap in dict.fromkeys(gaps):
            if gap in waived_before:
                continue
            waived = GapWaived(
                fonds_code=fonds_code,
                fiscal_year=fiscal_year,
                gap=gap,
                description=by_id[gap].missing,
                reason=reason,
                waived_by=user.name,
                waived_at=utc_now(),
            )
            async with self._unit():
                if await self._years.waive(waived):
                    await self._publisher.publish(
                        new_event(
                            waived,
                            source=self._source,
                            subject=f"{fonds_code}|{fiscal_year}|{gap}",
                            correlation_id=str(uuid.uuid4()),
                            actor=user.name,
                        )
                    )
        # As kept: of two waivers of one gap at once, the first stands.
        stored = {w.gap: w for w in await self._years.waivers(fonds_code, fiscal_year)}
        return [stored[g] for g in dict.fromkeys(gaps)]
