"""Approval's use cases: file a borrowing request, take the OA system's decision, publish it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import structlog

from approval.domain.borrowing import (
    BorrowingRequest,
    Decision,
    DecisionConflict,
    NotRoutedHere,
    RequestStatus,
    SelfApproval,
    attributed,
)
from approval.domain.form_profile import DecisionProfile, ProfiledDecision, read_decision
from approval.domain.oa_callback import CallbackRejected, verify
from approval.domain.oa_states import Outcome
from approval.domain.routing import OaRoutes
from approval.ports import (
    ApprovalStarter,
    NonceStore,
    ProcessedEvents,
    Publisher,
    RecordTitles,
    RequestStore,
)
from contracts.borrowing import BorrowingMode
from contracts.envelope import Envelope, derived_event_id, new_event
from contracts.events import ApprovalDecided, OaDecisionMade, OaDecisionMadeEvent
from contracts.topics import OaConnection
from contracts.types import utc_now
from servicekit.database import UnitOfWork

log = structlog.get_logger()


EXPIRED_BY = "aap-approval"  # the approver of an expiry: the approval service itself


class UnknownRequest(Exception):
    pass


class NotOfTheFonds(Exception):
    """A request names records that are not records of its fonds the archive holds (another
    fonds' records, or none at all: one answer for both, so that nothing is learned from it)."""


class ApprovalService:
    def __init__(
        self,
        requests: RequestStore,
        nonces: NonceStore,
        processed: ProcessedEvents,
        publisher: Publisher,
        unit: UnitOfWork,
        callback_keys: Mapping[str, bytes],
        routes: OaRoutes,
        source: str,
        records: RecordTitles,
        starter: ApprovalStarter | None = None,
        profiles: Mapping[str, DecisionProfile] | None = None,
        decide_within: timedelta = timedelta(days=14),
        users: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        """``callback_keys``: each OA connection's own HMAC key, by its name (the key id);
        ``routes``: which connection decides for which fonds; ``users``: per on-premise
        connection, its OA's user ids → platform principals (the vendors' are their own)."""
        self._requests = requests
        self._nonces = nonces
        self._processed = processed
        self._publisher = publisher
        self._unit = unit
        self._keys = callback_keys
        self._routes = routes
        self._source = source
        self._records = records
        self._starter = starter
        self._profiles = profiles or {}  # connection → how its OA's own form says a decision
        self._decide_within = decide_within  # a request undecided this long expires
        self._users = users or {}

    async def request_borrowing(
        self,
        *,
        applicant: str,
        fonds_code: str,
        record_ids: list[uuid.UUID],
        reason: str,
        days: int,
        mode: BorrowingMode,
    ) -> BorrowingRequest:
        """File the request with the OA system that decides for the fonds: on its own topic,
        which only it reads, and, for a vendor's OA, by starting the approval there. Only
        records of that fonds are borrowed through its OA: another fonds' records would be shown
        to approvers who do not decide for them."""
        connection = self._routes.connection_for(fonds_code)
        known = await self._records.fonds_of(record_ids)
        if outside := [r for r in record_ids if known.get(r) != fonds_code]:
            raise NotOfTheFonds(
                f"not records of fonds {fonds_code} the archive holds: "
                + ", ".join(str(r) for r in outside)
            )
        request = BorrowingRequest(
            request_id=uuid.uuid4(),
            applicant=applicant,
            fonds_code=fonds_code,
            oa_connection=connection,
            record_ids=tuple(record_ids),
            reason=reason,
            days=days,
            mode=mode,
            requested_at=utc_now(),
        )
        if self._starter:
            self._starter.check(request)
        async with self._unit():
            await self._requests.add(request)
            await self._publisher.publish(
                new_event(
                    request.requested(),
                    source=self._source,
                    subject=str(request.request_id),
                    correlation_id=str(request.request_id),
                    actor=applicant,
                ),
                to=OaConnection(connection).requests,
            )
        return await self._starter.start(request) if self._starter else request

    async def get(self, request_id: uuid.UUID) -> BorrowingRequest | None:
        return await self._requests.get(request_id)

    async def expire_overdue(self) -> int:
        """Expire each request undecided for longer than the OA is given (``ApprovalDecided``,
        expired), and withdraw it in its OA where the vendor allows: a decision the OA takes
        after that changes nothing; the applicant files again."""
        now, expired = utc_now(), 0
        for request_id in await self._requests.open_before(now - self._decide_within):
            request = await self._requests.get(request_id)
            if request is not None and request.status is RequestStatus.PENDING:
                days = self._decide_within.days
                reason = f"未在{days}天内审批 (not decided within {days} days)"
                expiry = Decision(
                    request_id=request_id,
                    oa_connection=request.oa_connection,
                    outcome=Outcome.EXPIRED,
                    approver=EXPIRED_BY,
                    comment=reason,
                    oa_instance_id=request.oa_instance_id or "",
                    decided_at=now,
                )
                decided = await self.apply(expiry, None)
                expired += decided.status is RequestStatus.EXPIRED
                if self._starter and decided.oa_instance_id:
                    await self._starter.cancel(decided, reason)
            await self._requests.closed(request_id)
        return expired

    async def on_oa_decision(self, event: OaDecisionMadeEvent, connection: str) -> None:
        """A decision from an OA connection's own topic."""

        async def work() -> None:
            await self.apply(self._attributed(_decision(event.data, connection)), event)

        await self._processed.handle_once(event, work)

    async def on_signed_callback(
        self,
        *,
        body: bytes,
        key_id: str | None,
        timestamp: str | None,
        nonce: str | None,
        signature: str | None,
    ) -> BorrowingRequest:
        """A decision from an OA system's signed HTTP callback."""
        system = await self.verified(body, key_id, timestamp, nonce, signature)
        if profile := self._profiles.get(system):
            decision = _profiled(read_decision(profile, body), system)
        else:
            decision = _decision(OaDecisionMade.model_validate_json(body), system)
        log.info("signed decision received", oa_system=system, request_id=str(decision.request_id))
        return await self.apply(self._attributed(decision), None)

    def _attributed(self, decision: Decision) -> Decision:
        """An on-premise OA's decision, its approvers as platform principals."""
        return attributed(decision, self._users.get(decision.oa_connection, {}))

    async def verified(
        self,
        body: bytes,
        key_id: str | None,
        timestamp: str | None,
        nonce: str | None,
        signature: str | None,
    ) -> str:
        """The OA connection that signed a callback, once: ``CallbackRejected`` otherwise
        (a wrong or missing signature, a stale time, a nonce seen before)."""
        system = verify(
            self._keys,
            key_id=key_id,
            timestamp=timestamp,
            nonce=nonce,
            signature=signature,
            body=body,
            now=time.time(),
        )
        assert nonce is not None
        if not await self._nonces.first_use(nonce):
            raise CallbackRejected("nonce was used before: replayed callback")
        return system

    async def apply(
        self, decision: Decision, cause: Envelope[OaDecisionMade] | None
    ) -> BorrowingRequest:
        request = await self._requests.get(decision.request_id)
        if request is None:
            raise UnknownRequest(f"no borrowing request {decision.request_id}")
        try:
            decided = request.decide(decision)
        except (DecisionConflict, SelfApproval, NotRoutedHere) as refused:
            log.warning("OA decision refused", reason=str(refused))
            raise
        async with self._unit():  # the change and its announcement, together
            if decided is not request and not await self._requests.save_change(decided):
                changed_meanwhile = True
            else:
                changed_meanwhile = False
                if decided.status is not RequestStatus.PENDING:
                    # Again on a repeat, with the same id, which consumers skip.
                    await self._publish(decided, cause)
        if changed_meanwhile:
            # Another delivery changed it between our read and write: re-decide against theirs.
            return await self.apply(decision, cause)
        return decided

    async def _publish(self, decided: BorrowingRequest, cause: Envelope[Any] | None) -> None:
        change = decided.decided()
        number = f"{len(decided.decisions)}:{change.decision}"
        await self._publisher.publish(
            new_event(
                change,
                source=self._source,
                subject=str(decided.request_id),
                correlation_id=str(decided.request_id),
                cause=cause,
                actor=change.approver,
                # One id per state a request reaches, whichever channel delivered it, however
                # often (a request can reach "pending" again, so its number is part of it).
                event_id=derived_event_id(decided.request_id, ApprovalDecided, number),
            )
        )


def _decision(data: OaDecisionMade, connection: str) -> Decision:
    return Decision(
        request_id=data.request_id,
        oa_connection=connection,
        outcome=Outcome(data.decision),
        approver=data.approver,
        comment=data.comment,
        oa_instance_id=data.oa_instance_id,
        decided_at=data.decided_at,
        trail=data.trail,
    )


def _profiled(d: ProfiledDecision, connection: str) -> Decision:
    return Decision(
        request_id=d.request_id,
        oa_connection=connection,
        outcome=d.outcome,
        approver=d.approver,
        comment=d.comment,
        oa_instance_id=d.oa_instance_id,
        decided_at=d.decided_at,
    )
