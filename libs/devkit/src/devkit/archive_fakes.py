"""In-memory stand-ins for the archive's ports, for its use cases' unit tests: one per port."""

from __future__ import annotations

from collections import defaultdict

from archive.domain.completeness import Kept
from archive.domain.search import Visibility
from contracts.events import GapWaived
from contracts.records import BankAccount, RecordCategory
from servicekit.auth import Person

# The ledgers and the annual report of a year, each covering its twelve months.
YEAR_BOOKS = (
    RecordCategory.GENERAL_LEDGER,
    RecordCategory.SUBSIDIARY_LEDGER,
    RecordCategory.JOURNAL,
    RecordCategory.ANNUAL_FINANCIAL_REPORT,
)


class AllowEveryone:
    """``archive.ports.Permissions`` that lets anyone do anything: for use cases whose own rules
    (separation of duties, completeness) are what the test is about."""

    async def require(self, user: Person, action: str, record_id: object) -> None:
        pass

    async def require_fonds(self, user: Person, action: str, fonds_code: str) -> None:
        pass

    async def visibility(self, user: Person, action: str) -> Visibility:
        return Visibility(True, (), ())


class InMemoryYearBooks:
    """``archive.ports.YearBooks``: what a fonds holds of a year, as the test puts it there."""

    def __init__(self) -> None:
        self.numbers: dict[tuple[str, int], dict[int, list[str]]] = defaultdict(dict)
        self.kept: dict[tuple[str, int], list[Kept]] = defaultdict(list)
        self.accounts: dict[tuple[str, int], list[BankAccount]] = defaultdict(list)
        self.waived: dict[tuple[str, int, str], GapWaived] = {}

    def complete(self, fonds_code: str, fiscal_year: int, months: dict[int, list[str]]) -> None:
        """A year with vouchers ``months`` (month → numbers) and everything else it needs."""
        self.numbers[(fonds_code, fiscal_year)] = months
        self.kept[(fonds_code, fiscal_year)] += [Kept(kind, 1, 12) for kind in YEAR_BOOKS]
        for month in months:
            self.kept[(fonds_code, fiscal_year)].append(
                Kept(RecordCategory.PERIODIC_FINANCIAL_REPORT, month, month)
            )

    async def voucher_numbers(self, fonds_code: str, fiscal_year: int) -> dict[int, list[str]]:
        return dict(self.numbers[(fonds_code, fiscal_year)])

    async def materials(self, fonds_code: str, fiscal_year: int) -> list[Kept]:
        return list(self.kept[(fonds_code, fiscal_year)])

    async def bank_accounts(self, fonds_code: str, fiscal_year: int) -> list[BankAccount]:
        return list(self.accounts[(fonds_code, fiscal_year)])

    async def waive(self, waived: GapWaived) -> bool:
        key = (waived.fonds_code, waived.fiscal_year, waived.gap)
        if key in self.waived:
            return False
        self.waived[key] = waived
        return True

    async def waivers(self, fonds_code: str, fiscal_year: int) -> list[GapWaived]:
        return [
            w for (f, y, _), w in sorted(self.waived.items()) if (f, y) == (fonds_code, fiscal_year)
        ]
