"""Permission's use cases: grants from approvals, the check, and revocation on expiry."""

from __future__ import annotations

import uuid

import structlog

from contracts.envelope import derived_event_id, new_event
from contracts.events import AccessRevoked, ApprovalDecidedEvent, RecordArchivedEvent
from contracts.types import utc_now
from permission.adapters.grants import Grants
from permission.domain.access import (
    CheckResult,
    Grant,
    RoleAssignment,
    Visibility,
    check,
    grant_for,
    separation_of_duties,
    visibility,
)
from servicekit.idempotency import ProcessedEvents
from servicekit.kafka import EventPublisher

log = structlog.get_logger()


class PermissionService:
    def __init__(
        self,
        grants: Grants,
        roles: list[RoleAssignment],
        processed: ProcessedEvents,
        publisher: EventPublisher,
        source: str,
    ) -> None:
        problems = separation_of_duties(roles)
        if problems:  # refuse to start: a role table that breaks the rules decides nothing
            raise ValueError("role assignments refused: " + "; ".join(problems))
        self._grants = grants
        self._roles = roles
        self._processed = processed
        self._publisher = publisher
        self._source = source

    async def on_approval_decided(self, event: ApprovalDecidedEvent) -> None:
        async def work() -> None:
            grant = grant_for(event.data)
            if grant is None:
                return
            await self._grants.add(grant)
            await self._publisher.publish(
                new_event(
                    grant.granted(),
                    source=self._source,
                    subject=str(grant.grant_id),
                    correlation_id=event.correlationid,
                    cause=event,
                    actor="permission-service",
                    event_id=grant.grant_id,
                )
            )

        await self._processed.handle_once(event, work)

    async def on_record_archived(self, event: RecordArchivedEvent) -> None:
        await self._grants.remember_record(event.data.record_id, event.data.fonds_code)

    async def check(self, user: str, action: str, resource: str) -> CheckResult:
        kind, _, ident = resource.partition(":")
        try:
            record_id = uuid.UUID(ident)
        except ValueError:
            return CheckResult(False, f"resource {resource!r} is not of the form record:<uuid>")
        if kind != "record":
            return CheckResult(False, f"unknown resource kind {kind!r}")
        return check(
            user=user,
            action=action,
            record_id=record_id,
            record_fonds=await self._grants.fonds_of(record_id),
            roles=self._roles,
            grants=await self._grants.for_user_record(user, record_id),
            now=utc_now(),
        )

    async def visibility(self, user: str, action: str) -> Visibility:
        grants = await self._grants.for_user(user)
        return visibility(user=user, action=action, roles=self._roles, grants=grants, now=utc_now())

    def roles_of(self, user: str) -> list[RoleAssignment]:
        return [r for r in self._roles if r.user == user]

    async def grants_of(self, user: str) -> list[Grant]:
        return await self._grants.for_user(user)

    async def revoke_expired(self) -> int:
        now = utc_now()
        count = 0
        for grant in await self._grants.due_for_revocation(now):
            # Publish first, then mark: a crash in between repeats the same event id, not a loss.
            await self._publisher.publish(
                new_event(
                    grant.revoked(now),
                    source=self._source,
                    subject=str(grant.grant_id),
                    correlation_id=str(grant.request_id),
                    actor="permission-service",
                    event_id=derived_event_id(grant.grant_id, AccessRevoked),
                )
            )
            if await self._grants.mark_revoked(grant.grant_id, now):
                count += 1
                log.info("grant expired and revoked", grant_id=str(grant.grant_id), user=grant.user)
        return count
