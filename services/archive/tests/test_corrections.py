"""Corrections as 会计基础工作规范 第五十一条(五) makes them: each a voucher with its own 档号,
linked to the one it corrects, which never changes; one that breaks its kind's rules, or names a
voucher not held, is archived and held for review."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from archive.domain.archive_code import ArchiveCodeRule
from archive.domain.corrections import CODE, named
from archive.domain.record import archive, placement
from archive.service import record_key_of
from contracts.events import DocumentIngested, RecordArchived
from contracts.records import CheckOutcome, CorrectionKind, CorrectionOf, StoredFile
from contracts.types import Money
from devkit.samples import ingested_document, voucher_summary

RULE = ArchiveCodeRule()
VOUCHER_FILE = StoredFile(
    role="voucher", filename="v.json", media_type="application/json", size=3, bucket="ingest",
    object_key="sha256/aa/" + "a" * 64, sha256="a" * 64, sm3="b" * 64,
)  # fmt: skip


def voucher(year: int, period: int, total: str, **changes: object) -> DocumentIngested:
    summary = voucher_summary(total=Money(amount=total))
    return ingested_document(
        [VOUCHER_FILE], fiscal_year=year, period=period, voucher=summary, **changes
    )


def kept(
    doc: DocumentIngested, seq: int, corrected: RecordArchived | None = None
) -> RecordArchived:
    at = datetime.now(UTC)
    return archive(doc, placement(doc, RULE), seq, RULE, bucket="b", at=at, corrected=corrected)


ORIGINAL = kept(voucher(2025, 3, "1280.00"), 42)  # Q001-2025-D30-PZ-000042


def correction(kind: CorrectionKind, year: int, total: str) -> DocumentIngested:
    names = CorrectionOf(kind=kind, archive_code=ORIGINAL.archive_code)
    return voucher(year, 11, total, correction=names)


def outcome(record: RecordArchived) -> tuple[CheckOutcome, str]:
    [result] = [r for r in record.check_report if r.code == "AAP-CORRECTION"]
    return result.outcome, result.detail


@pytest.mark.parametrize(
    ("kind", "year", "total"),
    [
        (CorrectionKind.REVERSAL, 2025, "-1280.00"),  # red, the same content
        (CorrectionKind.CORRECTING_ENTRY, 2025, "1208.00"),  # blue, booked again
        (CorrectionKind.ADJUSTMENT, 2025, "-72.00"),  # the difference, less in red
        (CorrectionKind.PRIOR_YEAR_CORRECTION, 2026, "72.00"),  # next year, in blue
    ],
)
def test_each_kind_of_correction_gets_its_own_code_and_names_what_it_corrects(
    kind: CorrectionKind, year: int, total: str
) -> None:
    record = kept(correction(kind, year, total), 7, ORIGINAL)
    assert record.archive_code == f"Q001-{year}-D30-PZ-000007"  # its own, in its own year
    assert record.corrects is not None
    assert (record.corrects.kind, record.corrects.record_id) == (kind, ORIGINAL.record_id)
    assert record.corrects.archive_code == ORIGINAL.archive_code
    assert outcome(record)[0] is CheckOutcome.PASSED
    assert not record.review_required
    assert [r.outcome for r in record.check_report if r.code == "1-7"] == [CheckOutcome.PASSED]


@pytest.mark.parametrize(
    ("kind", "year", "total", "why"),
    [
        (CorrectionKind.REVERSAL, 2025, "1280.00", "in red ink"),
        (CorrectionKind.REVERSAL, 2025, "-1000.00", "its total is -1000.00, not -1280.00"),
        (CorrectionKind.CORRECTING_ENTRY, 2026, "1208.00", "corrected by 更正"),
        (CorrectionKind.CORRECTING_ENTRY, 2025, "-5.00", "in blue ink"),
        (CorrectionKind.PRIOR_YEAR_CORRECTION, 2025, "72.00", "of an earlier year"),
    ],
)
def test_a_correction_that_breaks_its_kinds_rule_is_held_for_review_saying_why(
    kind: CorrectionKind, year: int, total: str, why: str
) -> None:
    record = kept(correction(kind, year, total), 7, ORIGINAL)
    assert outcome(record)[0] is CheckOutcome.FAILED and why in outcome(record)[1]
    assert record.review_required and record.corrects is not None


def test_a_correction_of_a_voucher_not_held_is_held_for_review_naming_it() -> None:
    names = CorrectionOf(
        kind=CorrectionKind.REVERSAL, fiscal_year=2025, period=3, voucher_no="记-0099"
    )
    record = archive(
        doc := voucher(2025, 11, "-10.00", correction=names),
        placement(doc, RULE), 8, RULE, bucket="b", at=datetime.now(UTC), corrected=None,
    )  # fmt: skip
    assert record.corrects is None and record.review_required
    status, reason = outcome(record)
    assert status is CheckOutcome.FAILED
    assert "voucher 记-0099 of 2025-03, which this fonds does not hold (yet)" in reason


def test_a_correction_waits_under_the_name_the_voucher_it_names_is_archived_by() -> None:
    """The key it waits under is the one the voucher it names is kept by: its natural key in
    the correction's fonds and unit, or its 档号."""
    by_erp = CorrectionOf(
        kind=CorrectionKind.REVERSAL, fiscal_year=2025, period=3, voucher_no="记-0099"
    )
    doc = voucher(2025, 11, "-10.00", correction=by_erp)
    original = ingested_document(
        [VOUCHER_FILE], fiscal_year=2025, period=3, voucher=voucher_summary(voucher_no="记-0099")
    )
    assert named(doc) == record_key_of(original)
    by_code = correction(CorrectionKind.REVERSAL, 2025, "-1280.00")
    assert named(by_code) == CODE + ORIGINAL.archive_code
    assert named(voucher(2025, 3, "1.00")) is None  # not a correction


def test_a_correction_names_the_voucher_one_way() -> None:
    with pytest.raises(ValueError, match="name the voucher corrected"):
        CorrectionOf(kind=CorrectionKind.ADJUSTMENT, fiscal_year=2025)
    with pytest.raises(ValueError, match="one way"):
        CorrectionOf(kind=CorrectionKind.ADJUSTMENT, archive_code="x", fiscal_year=2025)


def test_the_custody_register_names_each_side_of_a_correction_in_its_remarks() -> None:
    from archive.domain.registers import custody_register
    from archive.domain.volumes import assemble

    red = kept(correction(CorrectionKind.REVERSAL, 2025, "-1280.00"), 7, ORIGINAL)
    register = custody_register("Q001", 2025, assemble([ORIGINAL, red]), holds=set())
    remarks = {row[1]: row[-1] for row in register.rows}
    assert remarks[red.archive_code] == f"注销 {ORIGINAL.archive_code}"
    assert remarks[ORIGINAL.archive_code] == f"被注销：{red.archive_code}"
