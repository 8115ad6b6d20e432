"""An OA's approval form (审批单) kept as a record of its own (a source document, 原始凭证), and
how it meets the voucher it justified: by a business key both carry (an invoice number, a
voucher number), whichever of the two is archived first."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from archive.domain import metadata
from archive.domain.archive_code import ArchiveCodeRule
from archive.domain.record import Placement, with_metadata_checked
from archive.domain.retention import RETENTION_RULES, retention_until
from contracts.checks import CHECK_3_2, Stage, at, conclude
from contracts.events import BusinessKey, OaApprovalCompleted, RecordArchived
from contracts.records import CheckOutcome, CheckResult, RecordCategory, StoredFile

CATEGORY = RecordCategory.SOURCE_DOCUMENT  # an approved expense claim is a 原始凭证
# Where the approvals are: the fiscal year and period of an approval are its finishing day's
# in China, not in UTC (an approval at 01:00 on 1 January is of the new year).
CHINA = ZoneInfo("Asia/Shanghai")
_RECORD_IDS = uuid.UUID("1b0c3c52-5d8e-4a57-9f0e-6a3c0d0f7a11")


def approval_record_id(approval_key: str) -> uuid.UUID:
    """One OA approval, one record: its id follows from the approval's key."""
    return uuid.uuid5(_RECORD_IDS, approval_key)


def fiscal_of(approval: OaApprovalCompleted) -> tuple[int, int]:
    local = approval.finished_at.astimezone(CHINA)
    return local.year, local.month


def approval_placement(approval: OaApprovalCompleted, rule: ArchiveCodeRule) -> Placement:
    r = RETENTION_RULES[CATEGORY]
    year, _ = fiscal_of(approval)
    scope = rule.sequence_scope(approval.fonds_code, year, r.period.code, r.category_code)
    return Placement(scope, approval.fonds_code, year, r.period.code, r.category_code)


def approval_json(approval: OaApprovalCompleted) -> bytes:
    """The approval as the OA reported it (form, trail, keys): the record's data original."""
    return json.dumps(
        approval.model_dump(mode="json"), ensure_ascii=False, indent=2, sort_keys=True
    ).encode("utf-8")


def approval_record(
    approval: OaApprovalCompleted,
    where: Placement,
    code: str,
    rule: ArchiveCodeRule,
    originals: tuple[StoredFile, ...],
    at: datetime,
) -> RecordArchived:
    """The record's facts; ``originals`` as kept (their object keys in its package folder)."""
    r = RETENTION_RULES[CATEGORY]
    code_check = where.code_check(code, rule)
    report = approval_report(
        code_check,
        CHECK_3_2.result(CheckOutcome.PASSED, "read back before the record was announced"),
    )
    record_id = approval_record_id(approval.approval_key)
    _, period = fiscal_of(approval)
    record = RecordArchived(
        record_id=record_id,
        document_id=record_id,
        archive_code=code,
        fonds_code=approval.fonds_code,
        fiscal_year=where.year,
        category=CATEGORY,
        retention=r.period,
        retention_until=retention_until(r.period, where.year),
        originals=originals,
        archived_at=at,
        check_report=report,
        check_conclusion=conclude(report),
        review_required=code_check.outcome is CheckOutcome.FAILED,
        period=period,
        package=f"{code}/",
        submitted_by=f"oa:{approval.oa_connection}",
        package_format=metadata.FORMAT,
    )
    return with_metadata_checked(record)


# An approval comes as the OA's event, not as an upload: intake's checks of a file never ran.
NOT_RUN = "not run on an OA approval: it is archived from the OA's event, not uploaded to intake"


def approval_report(*performed: CheckResult, not_run: str = NOT_RUN) -> tuple[CheckResult, ...]:
    """Every item of the archiving stage's table (DA/T 70): those performed with their outcome,
    the others said not applicable or not performed, with why (``not_run``); so the conclusion
    is 通过 only when every required item was performed and passed."""
    done = {r.code: r for r in performed}
    return tuple(
        done.get(item.code)
        or item.unperformed(Stage.ARCHIVING)
        or item.result(CheckOutcome.NOT_PERFORMED, not_run)
        for item in at(Stage.ARCHIVING)
    )


# --- links by business key ------------------------------------------------------------------


def key_id(fonds_code: str, fiscal_year: int, key: BusinessKey) -> str:
    """Where the two sides of a key meet: invoice numbers are unique nationwide; a voucher
    number only within its fonds and year (an approval's year: the year it finished)."""
    if key.kind == "invoice_number":
        return f"invoice_number:{key.value}"
    return f"voucher_no:{fonds_code}:{fiscal_year}:{key.value}"


def voucher_keys(record: RecordArchived) -> tuple[BusinessKey, ...]:
    """The keys an archived voucher can be found by."""
    if record.voucher is None:
        return ()
    return (
        BusinessKey(kind="voucher_no", value=record.voucher.voucher_no),
        *(BusinessKey(kind="invoice_number", value=i.invoice_number) for i in record.invoices),
    )


@dataclass(frozen=True)
class ExpectedApprovals:
    """Which vouchers of a fonds wait for an OA approval record (by words of their 摘要, e.g.
    报销, 付款), and for how long before the archivist is told."""

    words: tuple[str, ...]
    wait: timedelta

    def expects(self, record: RecordArchived) -> bool:
        summary = record.voucher.summary if record.voucher else ""
        return any(w in summary for w in self.words)


@dataclass(frozen=True)
class Waiting:
    """A voucher waiting for its OA approval record."""

    record_id: uuid.UUID
    fonds_code: str
    archive_code: str
    voucher_no: str
    summary: str
    since: datetime
