"""Borrowing (借阅): a request for time-bound access to archive records, decided in OA."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from approval.domain.oa_states import Outcome, contrary, next_state
from contracts.borrowing import BorrowingMode
from contracts.events import ApprovalDecided, ApprovalRequested, ApprovalStep

RequestStatus = Outcome  # a request's state is the OA approval's, as the platform reads it


@dataclass(frozen=True)
class Decision:
    """What the OA said about a request, whichever way it reached us (its topic, a signed
    callback, a vendor's own callback), and the OA connection it came from."""

    request_id: uuid.UUID
    oa_connection: str
    outcome: Outcome
    approver: str
    comment: str
    oa_instance_id: str
    decided_at: datetime
    trail: tuple[ApprovalStep, ...] = ()


@dataclass(frozen=True)
class BorrowingRequest:
    """A borrowing request (借阅申请): who, which records of which fonds, why, for how many
    days, in which mode (查阅 or 复制: ``contracts.borrowing``), and the OA connection it was
    routed to (the only one that may decide it).

    ``decisions`` are the OA's words that changed its state, in order; ``status`` follows."""

    request_id: uuid.UUID
    applicant: str
    fonds_code: str
    oa_connection: str
    record_ids: tuple[uuid.UUID, ...]
    reason: str
    days: int
    mode: BorrowingMode | None  # None: filed before modes were told apart
    requested_at: datetime
    decisions: tuple[Decision, ...] = ()
    status: RequestStatus = RequestStatus.PENDING
    oa_instance_id: str | None = None  # the OA's own instance, once the OA has one
    oa_unreachable: str | None = None  # why the OA could not be asked yet (it will be again)

    @property
    def decision(self) -> Decision | None:
        return self.decisions[-1] if self.decisions else None

    def requested(self) -> ApprovalRequested:
        return ApprovalRequested(
            request_id=self.request_id,
            kind="borrowing",
            applicant=self.applicant,
            fonds_code=self.fonds_code,
            record_ids=self.record_ids,
            reason=self.reason,
            days=self.days,
            mode=self.mode,
            requested_at=self.requested_at,
        )

    def decide(self, decision: Decision) -> BorrowingRequest:
        """The request after the OA's word, as the flow's table says (``oa_states``). A late or
        repeated word changes nothing: the same request comes back. A word against the state
        reached (a rejection after the approval) is refused: ``DecisionConflict``."""
        if decision.oa_connection != self.oa_connection:
            raise NotRoutedHere(
                f"request {self.request_id} was routed to OA system {self.oa_connection}; "
                f"{decision.oa_connection} may not decide it"
            )
        if decision.outcome is Outcome.APPROVED and decision.approver == self.applicant:
            raise SelfApproval(
                f"{decision.approver} applied for request {self.request_id} and may not approve "
                "it: another approver decides"
            )
        state = next_state(self.status, decision.outcome)
        if state is None:
            if contrary(self.status, decision.outcome):
                raise DecisionConflict(
                    f"request {self.request_id} is already {self.status.value}; "
                    f"a later '{decision.outcome.value}' is ignored"
                )
            return self
        return self.reached(replace(decision, outcome=state))

    def reached(self, decision: Decision) -> BorrowingRequest:
        """The request in the state ``decision.outcome``, as stored."""
        return replace(self, decisions=(*self.decisions, decision), status=decision.outcome)

    def decided(self) -> ApprovalDecided:
        d = self.decision
        assert d is not None, "only a decided request has an ApprovalDecided"
        return ApprovalDecided(
            request_id=self.request_id,
            kind="borrowing",
            applicant=self.applicant,
            fonds_code=self.fonds_code,
            record_ids=self.record_ids,
            decision=d.outcome.value,  # never "pending": the service publishes no such change
            approver=d.approver,
            comment=d.comment,
            oa_connection=self.oa_connection,
            oa_instance_id=d.oa_instance_id,
            decided_at=d.decided_at,
            access_until=d.decided_at + timedelta(days=self.days)
            if d.outcome is Outcome.APPROVED
            else None,
            days=self.days,
            trail=d.trail,
            mode=self.mode,
        )


class DecisionConflict(Exception):
    """A decision contradicts the one already taken."""


class UnmappedApprover(Exception):
    """The OA user who approved is mapped to no platform principal: no access on their word
    (nor could "never approve your own request" be checked)."""


def oa_principal(users: Mapping[str, str], connection: str, oa_user: str) -> str:
    """The platform principal an OA user is (``users``: the connection's mapping); unmapped,
    named as the OA names them, ``<connection>:<OA user>``, which no role or grant is ever for."""
    return users.get(oa_user) or f"{connection}:{oa_user}"


def attributed(decision: Decision, users: Mapping[str, str]) -> Decision:
    """The decision with the OA's user ids as platform principals (``users``: the connection's
    mapping). An approval by an unmapped user is refused; any other word stands, named
    ``<connection>:<OA user>`` (it takes access away, or grants none)."""

    def principal(oa_user: str) -> str:
        return oa_principal(users, decision.oa_connection, oa_user)

    if decision.outcome is Outcome.APPROVED and decision.approver not in users:
        raise UnmappedApprover(
            f"approved in {decision.oa_connection} by OA user {decision.approver!r}: mapped to "
            "no platform principal, so no access on their word"
        )
    trail = tuple(
        s.model_copy(update={"approver": principal(s.oa_user_id)}) for s in decision.trail
    )
    return replace(decision, approver=principal(decision.approver), trail=trail)


class NotRoutedHere(Exception):
    """The decision comes from an OA system the request was not routed to."""


class SelfApproval(Exception):
    """The approver is the applicant: nobody approves their own borrowing."""
