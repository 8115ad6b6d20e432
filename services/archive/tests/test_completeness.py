"""A complete year (齐全完整): what the archivist checks before a year is handed over."""

from __future__ import annotations

from datetime import date

import pytest

from archive.completeness import CompletenessService
from archive.domain.completeness import Kept, YearContents, completeness
from archive.domain.lifecycle import NotFound
from contracts.records import BankAccount
from contracts.records import RecordCategory as C
from devkit.archive_fakes import AllowEveryone, InMemoryYearBooks
from devkit.testing import InMemoryUnits, RecordingPublisher
from servicekit.auth import Person

ICBC = BankAccount(code="100201", name="银行存款—工商银行浦东支行")
LEDGERS = [Kept(C.GENERAL_LEDGER, 1, 12), Kept(C.SUBSIDIARY_LEDGER, 1, 12), Kept(C.JOURNAL, 1, 12)]


def year(**changes: object) -> YearContents:
    fields: dict[str, object] = {
        "voucher_numbers": {3: ["记-0001", "记-0002"], 4: ["记-0001"]},
        "materials": [
            *LEDGERS,
            Kept(C.PERIODIC_FINANCIAL_REPORT, 3, 3),
            Kept(C.PERIODIC_FINANCIAL_REPORT, 4, 4),
            Kept(C.BANK_STATEMENT, 3, 3, "100201"),
            Kept(C.BANK_STATEMENT, 4, 4, "100201"),
            Kept(C.ANNUAL_FINANCIAL_REPORT, 1, 12),
        ],
        "bank_accounts": [ICBC],
        "year_over": True,
    }
    return YearContents(**(fields | changes))  # type: ignore[arg-type]


def gaps(contents: YearContents, waived: dict[str, str] | None = None) -> list[str]:
    return [g.id for g in completeness("Q001", 2025, contents, waived or {}).open_gaps]


def test_a_year_with_every_book_report_and_statement_is_complete() -> None:
    found = completeness("Q001", 2025, year(), {})
    assert found.complete and found.months == (3, 4)


def test_numbering_gaps_are_named_per_voucher_word_as_runs() -> None:
    numbers = {3: ["记-0001", "记-0004", "记-0005", "记-0007", "收-0002"], 4: ["记-0001"]}
    found = completeness("Q001", 2025, year(voucher_numbers=numbers), {})
    assert [(g.id, g.missing) for g in found.gaps] == [
        ("2025-03/numbering/收/1-1", "收 numbers 0001 are missing (断号)"),
        ("2025-03/numbering/记/2-3", "记 numbers 0002–0003 are missing (断号)"),
        ("2025-03/numbering/记/6-6", "记 numbers 0006 are missing (断号)"),
    ]
    assert all(g.basis == "DA/T 70 2-6" for g in found.gaps)


def test_a_month_between_two_with_vouchers_and_none_of_its_own_is_a_gap() -> None:
    numbers = {3: ["记-0001"], 5: ["记-0001"]}
    found = gaps(year(voucher_numbers=numbers))
    assert "2025-04/vouchers" in found and "2025-05/periodic_financial_report" in found


def test_each_bank_account_needs_its_statement_each_month() -> None:
    other = BankAccount(code="100202", name="银行存款—建设银行")
    assert gaps(year(bank_accounts=[ICBC, other])) == [
        "2025-03/bank_statement/100202",
        "2025-04/bank_statement/100202",
    ]


def test_a_quarterly_report_is_not_a_monthly_one_and_a_ledger_must_cover_the_month() -> None:
    materials = [
        Kept(C.GENERAL_LEDGER, 1, 3),
        Kept(C.SUBSIDIARY_LEDGER, 1, 12),
        Kept(C.JOURNAL, 1, 12),
        Kept(C.PERIODIC_FINANCIAL_REPORT, 1, 3),
        Kept(C.PERIODIC_FINANCIAL_REPORT, 4, 4),
        Kept(C.BANK_STATEMENT, 3, 4, "100201"),  # one statement for two months
        Kept(C.ANNUAL_FINANCIAL_REPORT, 1, 12),
    ]
    assert gaps(year(materials=materials)) == [
        "2025-03/periodic_financial_report",
        "2025-04/general_ledger",
    ]


def test_the_annual_report_is_due_once_the_year_is_over() -> None:
    materials = [m for m in year().materials if m.kind is not C.ANNUAL_FINANCIAL_REPORT]
    assert gaps(year(materials=materials)) == ["2025/annual_report"]
    assert gaps(year(materials=materials, year_over=False)) == []


def test_a_waived_gap_is_no_longer_open_and_says_why() -> None:
    contents = year(bank_accounts=[ICBC, BankAccount(code="100202")])
    found = completeness("Q001", 2025, contents, {"2025-03/bank_statement/100202": "账户3月开立"})
    assert [g.id for g in found.open_gaps] == ["2025-04/bank_statement/100202"]
    assert found.waived == {"2025-03/bank_statement/100202": "账户3月开立"}


def test_a_year_without_vouchers_is_not_complete() -> None:
    assert gaps(year(voucher_numbers={})) == ["2025/vouchers"]


def service(
    years: InMemoryYearBooks, accounts: dict[str, list[str]] | None = None
) -> tuple[CompletenessService, RecordingPublisher]:
    published = RecordingPublisher()
    return (
        CompletenessService(
            years,
            published,
            AllowEveryone(),
            "/aap/archive",
            InMemoryUnits(),
            accounts or {},
            today=lambda: date(2026, 12, 7),
        ),
        published,
    )


ARCHIVIST = Person("subject-of-zhaomin", "zhaomin")


async def test_configured_accounts_need_statements_as_those_booked_do() -> None:
    years = InMemoryYearBooks()
    years.complete("Q001", 2025, {3: ["记-0001"]})
    s, _ = service(years, {"Q001": ["100203"]})
    found = await s.report("Q001", 2025, ARCHIVIST)
    assert [g.id for g in found.open_gaps] == ["2025-03/bank_statement/100203"]


async def test_a_waiver_is_published_once_and_names_only_gaps_the_year_has() -> None:
    years = InMemoryYearBooks()
    years.complete("Q001", 2025, {3: ["记-0001", "记-0003"]})
    s, published = service(years)
    with pytest.raises(NotFound, match="has no gap 2025-03/numbering/记/9-9"):
        await s.waive("Q001", 2025, ["2025-03/numbering/记/9-9"], "…", ARCHIVIST)
    first = await s.waive("Q001", 2025, ["2025-03/numbering/记/2-2"], "作废", ARCHIVIST)
    again = await s.waive("Q001", 2025, ["2025-03/numbering/记/2-2"], "另一个理由", ARCHIVIST)
    assert first == again and first[0].reason == "作废" and first[0].waived_by == "zhaomin"
    assert first[0].description == "记 numbers 0002 are missing (断号)"
    assert len(published.events) == 1
    assert (await s.report("Q001", 2025, ARCHIVIST)).complete
