"""Holding and appraising records: legal holds (第十九条) and retention's end (第十六条)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from contracts.events import RecordArchived


@dataclass(frozen=True)
class LegalHold:
    """A record for unsettled claims and debts or other open matters: never destroyed while held."""

    reason: str
    placed_by: str
    placed_at: datetime


def unsettled(record: RecordArchived, marked_by: str | None) -> LegalHold | None:
    """The hold a voucher the ERP marked 未结清 gets at archiving; None if unmarked.

    第十九条: "保管期满但未结清的债权债务会计凭证和涉及其他未了事项的会计凭证不得销毁，
    ……保管到未了事项完结时为止。"
    """
    matter = record.voucher.open_matter if record.voucher else None
    if matter is None:
        return None
    return LegalHold(f"未结清（ERP）：{matter}", marked_by or "erp", record.archived_at)


class NotFound(Exception):
    """No such record (or nothing of the kind asked for); the message says what was sought."""


class Conflict(Exception):
    """The request contradicts the state of the records it concerns; the message says how."""


class DutiesSeparated(Exception):
    """The caller may do this in general, but not here: they took part in the step it checks
    (a record they uploaded is reviewed by someone else)."""


class HoldConflict(Conflict):
    pass


def place_hold(current: LegalHold | None, hold: LegalHold) -> LegalHold:
    if current is not None:
        raise HoldConflict(
            f"already on legal hold since {current.placed_at:%Y-%m-%d}: {current.reason}"
        )
    return hold


def release_hold(current: LegalHold | None) -> None:
    if current is None:
        raise HoldConflict("the record is not on legal hold")


Appraisal = Literal["due", "held", "kept"]


def appraise(retention_until: date | None, hold: LegalHold | None, as_of: date) -> Appraisal:
    """Due for appraisal once the last day of retention has passed; held ones listed apart."""
    if retention_until is None or retention_until >= as_of:
        return "kept"
    return "held" if hold else "due"


# Temporary custody (第十一条): the accounting department keeps a year's records for one year
# after the year ends, three at most with the archive department's consent; then hands them over.
TEMPORARY_CUSTODY_YEARS = 1
MAX_TEMPORARY_CUSTODY_YEARS = 3


def custody_due(fiscal_year: int, extended_years: int = 0) -> date:
    """The last day the accounting department may keep the year's records."""
    years = TEMPORARY_CUSTODY_YEARS + extended_years
    if years > MAX_TEMPORARY_CUSTODY_YEARS:
        raise ValueError(f"temporary custody ends at {MAX_TEMPORARY_CUSTODY_YEARS} years at most")
    return date(fiscal_year + years, 12, 31)


def extended_custody(fiscal_year: int, extended_years: int, current: int) -> date:
    """The new last day of temporary custody when the archive department consents to
    ``extended_years`` beyond the first (``current``: those consented before)."""
    if extended_years <= current:
        raise CustodyConflict(
            f"custody of {fiscal_year} is already extended by {current} year(s), "
            f"until {custody_due(fiscal_year, current)}"
        )
    if TEMPORARY_CUSTODY_YEARS + extended_years > MAX_TEMPORARY_CUSTODY_YEARS:
        raise CustodyConflict(
            f"temporary custody ends at {MAX_TEMPORARY_CUSTODY_YEARS} years at most (第十一条)"
        )
    return custody_due(fiscal_year, extended_years)


class CustodyConflict(Conflict):
    pass


class NotNamed(Exception):
    """The caller is not the person a step names (the 监交人 of an offer): 403."""


class HandoverRefused(Conflict):
    """The archive department does not accept the handover; the message lists why."""


@dataclass(frozen=True)
class HandoverOffer:
    """The first of the handover's steps (移交, 第十一条): the accounting department's principal
    (移交人) offers a year's records naming who supervises (监交人, 第二十四条), who confirms
    the offer with their own sign-in; an archivist (接收人), a third person, then accepts them
    after the re-check."""

    offer_id: uuid.UUID
    fonds_code: str
    fiscal_year: int
    offered_by: str
    offered_at: datetime
    handover_id: uuid.UUID | None = None  # the handover that accepted it
    supervised_by: str | None = None  # the 监交人 the 移交人 named (None on an offer before)
    supervised_at: datetime | None = None  # when they confirmed it
