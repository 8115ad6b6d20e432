"""A complete year (齐全完整): what a fonds' year must hold before it is handed over, and the gaps
found, each by a stable id that an archivist may waive with a reason.

The months checked are those of the books: from the first to the last month in which the year has
vouchers archived (a unit that went live mid-year has none before; a month in between without
any is a gap). Once the year is over its annual report is due too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from archive.domain.numbering import numbering, word_of
from contracts.records import BankAccount, RecordCategory


@dataclass(frozen=True)
class MonthlyItem:
    """One thing each month of the books needs, and the rule it comes from."""

    kind: RecordCategory
    name_zh: str
    basis: str


# What each month holds besides its vouchers. 会计基础工作规范 第五十六条:
# "会计帐簿包括总帐、明细帐、日记帐和其他辅助性帐簿"; 会计档案管理办法 第六条:
# "（二）会计账簿类，包括总账、明细账、日记账、固定资产卡片及其他辅助性账簿；
# （三）财务会计报告类，包括月度、季度、半年度、年度财务会计报告；
# （四）其他会计资料类，包括银行存款余额调节表、银行对账单…". A ledger may cover many
# months (a year's, printed once); a monthly report covers its month alone; a bank statement is
# due per account and month.
MONTHLY_ITEMS: tuple[MonthlyItem, ...] = (
    MonthlyItem(RecordCategory.GENERAL_LEDGER, "总账", "会计基础工作规范 第五十六条"),
    MonthlyItem(RecordCategory.SUBSIDIARY_LEDGER, "明细账", "会计基础工作规范 第五十六条"),
    MonthlyItem(RecordCategory.JOURNAL, "日记账", "会计基础工作规范 第五十六条"),
    MonthlyItem(
        RecordCategory.PERIODIC_FINANCIAL_REPORT, "月度财务会计报告", "会计档案管理办法 第六条(三)"
    ),
    MonthlyItem(RecordCategory.BANK_STATEMENT, "银行对账单", "会计档案管理办法 第六条(四)"),
)
ANNUAL_REPORT = RecordCategory.ANNUAL_FINANCIAL_REPORT  # 第六条(三), due once the year is over


@dataclass(frozen=True)
class Kept:
    """A material as the completeness check sees it: its kind, months and bank account."""

    kind: RecordCategory
    period_from: int
    period_to: int
    bank_account: str | None = None

    def covers(self, month: int) -> bool:
        return self.period_from <= month <= self.period_to


@dataclass(frozen=True)
class Gap:
    """Something the year lacks: its id (stable while the gap is the same), month (None: the
    year as a whole) and what is missing, in words."""

    id: str
    month: int | None
    missing: str
    basis: str


@dataclass(frozen=True)
class YearContents:
    """What a fonds holds of a year, as the archive's records say."""

    voucher_numbers: Mapping[int, Sequence[str]]  # month → the numbers of its vouchers
    materials: Sequence[Kept]
    bank_accounts: Sequence[BankAccount]  # configured for the fonds, or booked in its vouchers
    year_over: bool


@dataclass(frozen=True)
class Completeness:
    fonds_code: str
    fiscal_year: int
    months: tuple[int, ...]
    gaps: tuple[Gap, ...]
    waived: Mapping[str, str] = field(default_factory=dict)  # gap id → reason

    @property
    def open_gaps(self) -> tuple[Gap, ...]:
        return tuple(g for g in self.gaps if g.id not in self.waived)

    @property
    def complete(self) -> bool:
        return not self.open_gaps

    def numbering_gaps(self, month: int, voucher_no: str) -> tuple[Gap, ...]:
        """The open gaps in the numbering a voucher belongs to: its 凭证字 in its month."""
        word = word_of(voucher_no)
        at = f"{self.fiscal_year}-{month:02d}/numbering/{word}/"
        return tuple(g for g in self.open_gaps if g.id.startswith(at))


def completeness(
    fonds_code: str, fiscal_year: int, year: YearContents, waived: Mapping[str, str]
) -> Completeness:
    with_vouchers = sorted(m for m, numbers in year.voucher_numbers.items() if numbers)
    months = tuple(range(with_vouchers[0], with_vouchers[-1] + 1)) if with_vouchers else ()
    gaps: list[Gap] = []
    if not months:
        gaps.append(Gap(f"{fiscal_year}/vouchers", None, "no voucher is archived", "第六条(一)"))
    for month in months:
        gaps += _month_gaps(fiscal_year, month, year)
    if year.year_over and not any(m.kind is ANNUAL_REPORT for m in year.materials):
        gaps.append(
            Gap(
                f"{fiscal_year}/annual_report",
                None,
                "年度财务会计报告",
                "会计档案管理办法 第六条(三)",
            )
        )
    return Completeness(
        fonds_code,
        fiscal_year,
        months,
        tuple(gaps),
        {k: v for k, v in waived.items() if k in {g.id for g in gaps}},
    )


def _month_gaps(fiscal_year: int, month: int, year: YearContents) -> list[Gap]:
    at = f"{fiscal_year}-{month:02d}"
    numbers = year.voucher_numbers.get(month, ())
    if not numbers:
        return [Gap(f"{at}/vouchers", month, "no voucher of this month", "DA/T 70 2-6")]
    gaps = [
        Gap(
            f"{at}/numbering/{report.word}/{first}-{last}",
            month,
            f"{report.word} numbers {_numbers(first, last)} are missing (断号)",
            "DA/T 70 2-6",
        )
        for report in numbering(numbers)
        for first, last in _runs(report.gaps)
    ]
    for item in MONTHLY_ITEMS:
        kept = [m for m in year.materials if m.kind is item.kind and m.covers(month)]
        if item.kind is RecordCategory.PERIODIC_FINANCIAL_REPORT:
            kept = [m for m in kept if m.period_from == m.period_to]  # its month alone
        if item.kind is RecordCategory.BANK_STATEMENT:
            gaps += [
                Gap(
                    f"{at}/bank_statement/{account.code}",
                    month,
                    f"银行对账单 of {account.code} {account.name}".rstrip(),
                    item.basis,
                )
                for account in year.bank_accounts
                if not any(m.bank_account == account.code for m in kept)
            ]
        elif not kept:
            gaps.append(Gap(f"{at}/{item.kind.value}", month, item.name_zh, item.basis))
    return gaps


def _runs(numbers: Iterable[int]) -> list[tuple[int, int]]:
    """Consecutive numbers as (first, last) runs: 4, 5, 9 → (4, 5), (9, 9)."""
    runs: list[tuple[int, int]] = []
    for n in sorted(numbers):
        if runs and runs[-1][1] == n - 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


def _numbers(first: int, last: int) -> str:
    return f"{first:04d}" if first == last else f"{first:04d}–{last:04d}"
