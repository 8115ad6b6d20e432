"""Corrections as accountants make them, and the check of one at accession (AAP-CORRECTION).

会计基础工作规范 第五十一条(五): "已经登记入账的记账凭证，在当年内发现填写错误时，可以用红字填写一张
与原内容相同的记账凭证，在摘要栏注明'注销某月某日某号凭证'字样，同时再用蓝字重新填制一张正确的
记账凭证，注明'订正某月某日某号凭证'字样。如果会计科目没有错误，只是金额错误，也可以将正确数字与
错误数字之间的差额，另编一张调整的记账凭证，调增金额用蓝字，调减金额用红字。发现以前年度记账凭证有
错误的，应当用蓝字填制一张更正的记账凭证。"

Each correction is a voucher of its own, with its own 档号 in its own year and period; the
voucher it corrects is never changed. A correction naming a voucher the archive does not hold is
archived and held for review (the original may still be on its way), never refused; it waits
under the name it gives and is linked once that voucher is archived (``archive.late_corrections``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from contracts.checks import CHECK_CORRECTION
from contracts.events import DocumentIngested, RecordArchived
from contracts.records import (
    CheckOutcome,
    CheckResult,
    CorrectionKind,
    CorrectionLink,
    voucher_key,
)


@dataclass(frozen=True)
class CorrectionRule:
    year: Literal["same", "earlier"]  # the corrected voucher's year, against the correction's
    ink: Literal["red", "blue", "either"]  # the sign of the correction's total
    mirrors: bool = False  # the corrected voucher's content again: its total, negated


CORRECTION_RULES: Mapping[CorrectionKind, CorrectionRule] = {
    # "用红字填写一张与原内容相同的记账凭证 … 注销某月某日某号凭证"
    CorrectionKind.REVERSAL: CorrectionRule("same", "red", mirrors=True),
    # "同时再用蓝字重新填制一张正确的记账凭证，注明'订正某月某日某号凭证'"
    CorrectionKind.CORRECTING_ENTRY: CorrectionRule("same", "blue"),
    # "差额，另编一张调整的记账凭证，调增金额用蓝字，调减金额用红字"
    CorrectionKind.ADJUSTMENT: CorrectionRule("same", "either"),
    # "发现以前年度记账凭证有错误的，应当用蓝字填制一张更正的记账凭证"
    CorrectionKind.PRIOR_YEAR_CORRECTION: CorrectionRule("earlier", "blue"),
}


def link_to(doc: DocumentIngested, corrected: RecordArchived | None) -> CorrectionLink | None:
    """The link a correction keeps to the record it corrects (None: none, or not held)."""
    if doc.correction is None or corrected is None:
        return None
    return CorrectionLink(
        kind=doc.correction.kind,
        record_id=corrected.record_id,
        archive_code=corrected.archive_code,
    )


def judge(doc: DocumentIngested, corrected: RecordArchived | None) -> CheckResult:
    """AAP-CORRECTION: the voucher corrected is held in this fonds, and the correction keeps
    its kind's rules (year, ink, and a 注销's content); failed, the record is held for review."""
    c = doc.correction
    if c is None:
        return CHECK_CORRECTION.result(CheckOutcome.NOT_APPLICABLE, "not a correction")
    if corrected is None:
        return CHECK_CORRECTION.result(
            CheckOutcome.FAILED,
            f"corrects {c.names()}, which this fonds does not hold (yet): held for review "
            "until the voucher it corrects is archived",
        )
    assert doc.voucher is not None, "only a voucher corrects"
    rule, total = CORRECTION_RULES[c.kind], doc.voucher.total.amount
    named, year = corrected.archive_code, corrected.fiscal_year
    problems = []
    if rule.year == "same" and year != doc.fiscal_year:
        problems.append(
            f"a {c.kind} corrects a voucher of its own year, and {named} is of {year}: a "
            f"prior-year error is corrected by {CorrectionKind.PRIOR_YEAR_CORRECTION}"
        )
    if rule.year == "earlier" and year >= doc.fiscal_year:
        problems.append(
            f"a {c.kind} corrects a voucher of an earlier year, and {named} is of {year}: "
            f"within its year, {CorrectionKind.REVERSAL} and {CorrectionKind.CORRECTING_ENTRY}, "
            f"or {CorrectionKind.ADJUSTMENT}"
        )
    if rule.ink == "red" and total >= 0:
        problems.append(f"a {c.kind} is in red ink, and its total {total} is not negative")
    if rule.ink == "blue" and total < 0:
        problems.append(f"a {c.kind} is in blue ink, and its total {total} is negative")
    if rule.mirrors and corrected.voucher and total != -corrected.voucher.total.amount:
        problems.append(
            f"a {c.kind} repeats the voucher it cancels in red: its total is {total}, "
            f"not {-corrected.voucher.total.amount}"
        )
    if problems:
        return CHECK_CORRECTION.result(CheckOutcome.FAILED, "; ".join(problems))
    return CHECK_CORRECTION.result(CheckOutcome.PASSED, f"{c.kind} of {named}")


CODE = "code:"  # a voucher named by its 档号, as a waiting correction's key


def named(doc: DocumentIngested) -> str | None:
    """The name a correction gives the voucher it corrects, as a key: the voucher's natural key
    (as the ERP knows it, in the correction's fonds and unit), or its 档号. None: no correction."""
    c = doc.correction
    if c is None:
        return None
    if c.archive_code is not None:
        return CODE + c.archive_code
    assert c.fiscal_year is not None and c.period is not None and c.voucher_no
    return voucher_key(
        fonds_code=doc.fonds_code,
        company_name=doc.company_name,
        fiscal_year=c.fiscal_year,
        period=c.period,
        voucher_no=c.voucher_no,
    )


@dataclass(frozen=True)
class WaitingCorrection:
    """A correction archived before the voucher it names: waiting under that name."""

    key: str
    fonds_code: str
    record_id: uuid.UUID
    kind: CorrectionKind
