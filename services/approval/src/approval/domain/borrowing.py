"""Borrowing (借阅): a request for time-bound access to archive records, decided in OA."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from contracts.events import ApprovalDecided, ApprovalRequested


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Decision:
    """What an OA approver decided, whichever way it reached us (topic or callback), and the
    OA connection it came from (its topic, or the key that signed its callback)."""

    request_id: uuid.UUID
    oa_connection: str
    decision: Literal["approved", "rejected"]
    approver: str
    comment: str
    oa_instance_id: str
    decided_at: datetime


@dataclass(frozen=True)
class BorrowingRequest:
    """A borrowing request (借阅申请): who, which records of which fonds, why, for how many
    days, and the OA connection it was routed to (the only one that may decide it)."""

    request_id: uuid.UUID
    applicant: str
    fonds_code: str
    oa_connection: str
    record_ids: tuple[uuid.UUID, ...]
    reason: str
    days: int
    requested_at: datetime
    status: RequestStatus = RequestStatus.PENDING
    decision: Decision | None = None

    def requested(self) -> ApprovalRequested:
        return ApprovalRequested(
            request_id=self.request_id,
            kind="borrowing",
            applicant=self.applicant,
            fonds_code=self.fonds_code,
            record_ids=self.record_ids,
            reason=self.reason,
            days=self.days,
            requested_at=self.requested_at,
        )

    def decide(self, decision: Decision) -> BorrowingRequest:
        """The request after the decision. A repeat of the same decision changes nothing."""
        if decision.oa_connection != self.oa_connection:
            raise NotRoutedHere(
                f"request {self.request_id} was routed to OA system {self.oa_connection}; "
                f"{decision.oa_connection} may not decide it"
            )
        if decision.decision == "approved" and decision.approver == self.applicant:
            raise SelfApproval(
                f"{decision.approver} applied for request {self.request_id} and may not approve "
                "it: another approver decides"
            )
        if self.status is not RequestStatus.PENDING:
            if self.decision is not None and self.decision.decision == decision.decision:
                return self
            raise DecisionConflict(
                f"request {self.request_id} is already {self.status.value}; "
                f"a later '{decision.decision}' is ignored"
            )
        return replace(self, status=RequestStatus(decision.decision), decision=decision)

    def decided(self) -> ApprovalDecided:
        d = self.decision
        assert d is not None, "only a decided request has an ApprovalDecided"
        return ApprovalDecided(
            request_id=self.request_id,
            kind="borrowing",
            applicant=self.applicant,
            fonds_code=self.fonds_code,
            record_ids=self.record_ids,
            decision=d.decision,
            approver=d.approver,
            comment=d.comment,
            oa_instance_id=d.oa_instance_id,
            decided_at=d.decided_at,
            access_until=d.decided_at + timedelta(days=self.days)
            if d.decision == "approved"
            else None,
            days=self.days,
        )


class DecisionConflict(Exception):
    """A decision contradicts the one already taken."""


class NotRoutedHere(Exception):
    """The decision comes from an OA system the request was not routed to."""


class SelfApproval(Exception):
    """The approver is the applicant: nobody approves their own borrowing."""
