"""Permission's use cases: role assignments, grants from approvals, the check, and revocation
on expiry or withdrawal."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import structlog

from contracts.envelope import Envelope, derived_event_id, new_event
from contracts.events import (
    AccessRevoked,
    ApprovalDecidedEvent,
    RecordArchivedEvent,
    RoleAssigned,
    RoleRevoked,
)
from contracts.roles import ALL_FONDS, Action, is_client
from contracts.types import utc_now
from permission.domain.access import (
    ChangeRefused,
    CheckResult,
    Grant,
    RoleAssignment,
    Visibility,
    check,
    grant_for,
    grant_id_of,
    refuse_change,
    separation_of_duties,
    visibility,
)
from permission.ports import GrantStore, Publisher, RoleStore
from servicekit.auth import Person
from servicekit.database import UnitOfWork
from servicekit.deadletter import Refused
from servicekit.idempotency import ProcessedEvents

log = structlog.get_logger()
SEEDED_BY = "seed"  # the actor of assignments a seed file bootstrapped


class NotPermitted(Exception):
    """The caller's roles do not allow this change."""


class NotFound(Exception):
    pass


class AlreadyEnded(Exception):
    pass


class NoGrantForClients(Refused):
    """A borrowing approved for a client's service account: clients hold no grants (set aside,
    with the reason: the approval service files no such request, so one is forged or a bug)."""


class PermissionService:
    def __init__(
        self,
        grants: GrantStore,
        roles: RoleStore,
        processed: ProcessedEvents,
        publisher: Publisher,
        unit: UnitOfWork,
        source: str,
    ) -> None:
        self._unit = unit
        self._grants = grants
        self._roles = roles
        self._processed = processed
        self._publisher = publisher
        self._source = source

    async def seed(self, assignments: list[RoleAssignment]) -> int:
        """Bootstrap an empty store (the local stack, a first install) from a seed file; a
        store that holds anything is left as the security administrator made it."""
        problems = separation_of_duties(assignments)
        if problems:  # refuse to start: a seed that breaks the rules decides nothing
            raise ValueError("role seed refused: " + "; ".join(problems))
        if not await self._roles.is_empty():
            return 0
        for a in assignments:
            async with self._unit():
                if held := await self._roles.assign(a):
                    await self._publisher.publish(self._assigned(held, SEEDED_BY))
        return len(assignments)

    async def assign(self, a: RoleAssignment, *, by: Person) -> bool:
        """The security administrator gives ``a``; False if it was held already."""
        await self._require_admin(by, a.fonds_code)
        if reason := refuse_change(await self._roles.held(a.user), a, by=by.name):
            raise ChangeRefused(reason)
        async with self._unit():
            if (held := await self._roles.assign(a)) is None:
                return False
            await self._publisher.publish(self._assigned(held, by.name))
        return True

    async def revoke(self, a: RoleAssignment, *, by: Person) -> None:
        await self._require_admin(by, a.fonds_code)
        if a.user == by.name:
            raise ChangeRefused(f"{by.name}: nobody changes their own roles")
        async with self._unit():
            if (ended := await self._roles.revoke(a)) is None:
                raise NotFound(f"{a.user} holds no role {a.role} in fonds {a.fonds_code}")
            revoked = RoleRevoked(
                user=a.user,
                role=a.role,
                fonds_code=a.fonds_code,
                subject=ended.subject,
                revoked_by=by.name,
                revoked_at=utc_now(),
            )
            correlation = str(uuid.uuid4())
            await self._publisher.publish(
                new_event(
                    revoked,
                    source=self._source,
                    subject=a.user,
                    correlation_id=correlation,
                    actor=by.name,
                )
            )

    async def assignments(self, *, by: Person) -> list[RoleAssignment]:
        await self._require_admin(by, ALL_FONDS)
        return await self._roles.held()

    async def withdraw(self, grant_id: uuid.UUID, *, by: Person) -> AccessRevoked:
        """The security administrator ends a grant before its time."""
        await self._require_admin(by, ALL_FONDS)
        grant = await self._grants.get(grant_id)
        if grant is None:
            raise NotFound(f"no grant {grant_id}")
        now = utc_now()
        if not grant.active(now):
            raise AlreadyEnded(f"grant {grant_id} is no longer active")
        withdrawn = grant.withdrawn(by.name, now)
        await self._end(grant, withdrawn, actor=by.name, part="withdrawn")
        return withdrawn

    async def _end(
        self,
        grant: Grant,
        revoked: AccessRevoked,
        *,
        actor: str,
        part: str = "",
        cause: Envelope[Any] | None = None,
    ) -> bool:
        """Mark a grant ended and announce it, in one unit of work; False if another end came
        first (``part`` tells the ends apart in the event id)."""
        async with self._unit():
            if not await self._grants.mark_revoked(grant.grant_id, revoked.revoked_at):
                return False
            await self._publisher.publish(
                new_event(
                    revoked,
                    source=self._source,
                    subject=str(grant.grant_id),
                    correlation_id=str(grant.request_id),
                    cause=cause,
                    actor=actor,
                    event_id=derived_event_id(grant.grant_id, AccessRevoked, part),
                )
            )
        return True

    def _assigned(self, a: RoleAssignment, by: str) -> Envelope[RoleAssigned]:
        assigned = RoleAssigned(
            user=a.user,
            role=a.role,
            fonds_code=a.fonds_code,
            subject=a.subject,
            assigned_by=by,
            assigned_at=utc_now(),
        )
        correlation = str(uuid.uuid4())
        return new_event(
            assigned, source=self._source, subject=a.user, correlation_id=correlation, actor=by
        )

    async def _require_admin(self, who: Person, fonds_code: str) -> None:
        for r in await self._roles.held_by(who):
            if r.covers(who.name, Action.ASSIGN_ROLES, fonds_code):
                return
        raise NotPermitted(f"{who.name}: roles are assigned by the security administrator only")

    async def on_approval_decided(self, event: ApprovalDecidedEvent) -> None:
        """An approval grants access; an approval withdrawn in the OA takes it away at once."""

        async def work() -> None:
            if event.data.decision == "revoked":
                await self._withdrawn_in_oa(event)
                return
            grant = grant_for(event.data)
            if grant is None:
                return
            if is_client(grant.user):
                raise NoGrantForClients(
                    f"{grant.user} is a client's service account: borrowing grants are for people"
                )
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

    async def _withdrawn_in_oa(self, event: ApprovalDecidedEvent) -> None:
        grant = await self._grants.get(grant_id_of(event.data.request_id))
        now = utc_now()
        if grant is None or grant.revoked_at is not None:
            return
        revoked = grant.withdrawn(event.data.approver, now, in_oa=True)
        await self._end(
            grant, revoked, actor=event.data.approver, part="withdrawn_in_oa", cause=event
        )

    async def on_record_archived(self, event: RecordArchivedEvent) -> None:
        await self._grants.remember_record(event.data.record_id, event.data.fonds_code)

    async def check(self, who: Person, action: str, resource: str) -> CheckResult:
        """Whether ``who`` may ``action`` the resource: by their roles (held by their subject),
        or by a borrowing grant (granted to the name the approval named)."""
        kind, _, ident = resource.partition(":")
        try:
            record_id = uuid.UUID(ident)
        except ValueError:
            return CheckResult(False, f"resource {resource!r} is not of the form record:<uuid>")
        if kind != "record":
            return CheckResult(False, f"unknown resource kind {kind!r}")
        return check(
            user=who.name,
            action=action,
            record_id=record_id,
            record_fonds=await self._grants.fonds_of(record_id),
            roles=await self._roles.held_by(who),
            grants=await self._grants.for_user_record(who.name, record_id),
            now=utc_now(),
        )

    async def visibility(self, who: Person, action: str) -> Visibility:
        grants = await self._grants.for_user(who.name)
        roles = await self._roles.held_by(who)
        granted = {rid for g in grants for rid in g.record_ids}
        known = {rid: f for rid in granted if (f := await self._grants.fonds_of(rid)) is not None}
        return visibility(
            user=who.name,
            action=action,
            roles=roles,
            grants=grants,
            record_fonds=known,
            now=utc_now(),
        )

    async def roles_of(self, who: Person) -> list[RoleAssignment]:
        return await self._roles.held_by(who)

    async def grants_of(self, user: str) -> list[Grant]:
        """The user's grants, each listing only the records it covers: those of its fonds
        (an approval that named another fonds' record grants nothing on it, nor shows it)."""
        shown = []
        for grant in await self._grants.for_user(user):
            covered = [
                r for r in grant.record_ids if grant.names(user, r, await self._grants.fonds_of(r))
            ]
            shown.append(replace(grant, record_ids=tuple(covered)))
        return shown

    async def revoke_expired(self) -> int:
        now = utc_now()
        count = 0
        for grant in await self._grants.due_for_revocation(now):
            if await self._end(grant, grant.revoked(now), actor="permission-service"):
                count += 1
                log.info("grant expired and revoked", grant_id=str(grant.grant_id), user=grant.user)
        return count
