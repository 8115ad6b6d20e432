"""The 移交清册 kept as a record of its own (附表1: 会计档案移交清册, 30年), signed by the three
people 第二十四条 names: "交接会计档案时，交接双方应当按照会计档案移交清册所列内容逐项交接，并由
交接双方的单位有关负责人负责监督。交接完毕后，交接双方经办人和监督人应当在会计档案移交清册上签名或
盖章。" Here each signs by confirming in the platform with their own sign-in: the 移交人 by
offering, the 监交人 the 移交人 named by confirming the offer, the 接收人 by accepting it; their
principals and times are printed on the list, which is archived with the handover."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from archive.domain import metadata
from archive.domain.approval_record import approval_report
from archive.domain.archive_code import ArchiveCodeRule
from archive.domain.record import Placement, with_metadata_checked
from archive.domain.retention import RETENTION_RULES, retention_until
from contracts.checks import CHECK_3_2, conclude
from contracts.events import RecordArchived, RecordsHandedOver
from contracts.records import CheckOutcome, RecordCategory, StoredFile

CATEGORY = RecordCategory.HANDOVER_LIST
NOT_RUN = "not run on a register the archive made itself: it is not uploaded to intake"
_LIST_IDS = uuid.UUID("5d0f3b8e-2c6a-4f51-8a7e-3e9b1c2d4f60")


def handover_list_id(handover_id: uuid.UUID) -> uuid.UUID:
    """One handover, one list: its record id follows from the handover's."""
    return uuid.uuid5(_LIST_IDS, str(handover_id))


@dataclass(frozen=True)
class Signature:
    """One of the three who sign the list: their duty, as the list prints it, and when."""

    duty: str  # 移交人, 监交人, 接收人
    principal: str
    at: datetime


def signatures(handover: RecordsHandedOver) -> tuple[Signature, ...]:
    """Who signed the handover's list, in the order they did."""
    h = handover
    signed = (
        ("移交人", h.handed_over_by, h.offered_at),
        ("监交人", h.supervised_by, h.supervised_at),
        ("接收人", h.received_by, h.handed_over_at),
    )
    return tuple(Signature(duty, who, at) for duty, who, at in signed if who and at)


def list_placement(fonds_code: str, fiscal_year: int, rule: ArchiveCodeRule) -> Placement:
    """The list is filed with the year it hands over."""
    r = RETENTION_RULES[CATEGORY]
    scope = rule.sequence_scope(fonds_code, fiscal_year, r.period.code, r.category_code)
    return Placement(scope, fonds_code, fiscal_year, r.period.code, r.category_code)


def list_record(
    handover: RecordsHandedOver,
    where: Placement,
    code: str,
    rule: ArchiveCodeRule,
    originals: tuple[StoredFile, ...],
) -> RecordArchived:
    """The list's record, archived when the handover is, by the archive department (its 题名
    the category's: 会计档案移交清册; the handover it lists names it, ``handover_list``)."""
    r = RETENTION_RULES[CATEGORY]
    code_check = where.code_check(code, rule)
    report = approval_report(
        code_check,
        CHECK_3_2.result(CheckOutcome.PASSED, "read back before the record was announced"),
        not_run=NOT_RUN,
    )
    record_id = handover_list_id(handover.handover_id)
    record = RecordArchived(
        record_id=record_id,
        document_id=record_id,
        archive_code=code,
        fonds_code=handover.fonds_code,
        fiscal_year=where.year,
        category=CATEGORY,
        retention=r.period,
        retention_until=retention_until(r.period, where.year),
        originals=originals,
        archived_at=handover.handed_over_at,
        check_report=report,
        check_conclusion=conclude(report),
        review_required=code_check.outcome is CheckOutcome.FAILED,
        package=f"{code}/",
        submitted_by=handover.received_by,
        package_format=metadata.FORMAT,
    )
    return with_metadata_checked(record)
