"""Role assignments and grant withdrawal by the security administrator, with in-memory stores."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError

from contracts.envelope import Envelope, new_event
from contracts.events import (
    AccessGranted,
    AccessRevoked,
    ApprovalDecided,
    RoleAssigned,
    RoleRevoked,
)
from devkit.testing import InMemoryUnits, RecordingPublisher
from permission.domain.access import ChangeRefused, Grant, RoleAssignment
from permission.service import (
    AlreadyEnded,
    NoGrantForClients,
    NotFound,
    NotPermitted,
    PermissionService,
)
from servicekit.auth import Person

SEED = [
    RoleAssignment("secadmin", "security_admin", "*"),
    RoleAssignment("secauditor", "security_auditor", "*"),
    RoleAssignment("zhaomin", "archivist", "Q001"),
]


class Roles:
    """Roles by name: binding them to a subject is the adapter's, tried on the real server."""

    def __init__(self) -> None:
        self.docs: dict[RoleAssignment, bool] = {}

    async def held_by(self, who: Person) -> list[RoleAssignment]:
        return [replace(a, subject=who.subject) for a in await self.held(who.name)]

    async def held(self, user: str | None = None) -> list[RoleAssignment]:
        return [a for a, held in self.docs.items() if held and user in (None, a.user)]

    async def is_empty(self) -> bool:
        return not self.docs

    async def assign(self, a: RoleAssignment) -> RoleAssignment | None:
        if self.docs.get(a):
            return None
        self.docs[a] = True
        return a

    async def revoke(self, a: RoleAssignment) -> RoleAssignment | None:
        if not self.docs.get(a):
            return None
        self.docs[a] = False
        return a


def person(name: str) -> Person:
    return Person(f"subject-of-{name}", name)


class Grants:
    def __init__(self, *grants: Grant) -> None:
        self.grants = {g.grant_id: g for g in grants}
        self.revoked: dict[uuid.UUID, datetime] = {}
        self.records: dict[uuid.UUID, str] = {}  # the fonds of each record heard of

    async def fonds_of(self, record_id: uuid.UUID) -> str | None:
        return self.records.get(record_id)

    async def for_user(self, user: str) -> list[Grant]:
        return [g for g in self.grants.values() if g.user == user]

    async def get(self, grant_id: uuid.UUID) -> Grant | None:
        return self.grants.get(grant_id)

    async def mark_revoked(self, grant_id: uuid.UUID, at: datetime) -> bool:
        self.revoked[grant_id] = at
        self.grants[grant_id] = replace(self.grants[grant_id], revoked_at=at)
        return True

    async def add(self, g: Grant) -> None:
        self.grants.setdefault(g.grant_id, g)


class Once:
    def __init__(self) -> None:
        self.seen: set[uuid.UUID] = set()

    async def handle_once(self, event: Envelope[Any], work: Callable[[], Awaitable[None]]) -> bool:
        if event.id in self.seen:
            return False
        await work()
        self.seen.add(event.id)
        return True


async def seeded(*grants: Grant) -> tuple[PermissionService, Roles, RecordingPublisher]:
    roles, published, fakes = Roles(), RecordingPublisher(), Grants(*grants)
    units = InMemoryUnits(roles, fakes, published)
    # Only what role changes and withdrawal use is faked: the rest is not reached here.
    unused: Any = None
    fake_grants: Any = fakes
    service = PermissionService(fake_grants, roles, unused, published, units, "/aap/permission")
    assert await service.seed(SEED) == 3
    assert len(published.events) == 3
    published.events.clear()
    return service, roles, published


async def test_a_seed_fills_an_empty_store_only() -> None:
    service, roles, _ = await seeded()
    assert await service.seed([RoleAssignment("someone", "archivist", "Q9")]) == 0
    assert sorted(a.user for a in await roles.held()) == ["secadmin", "secauditor", "zhaomin"]


async def test_the_security_administrator_assigns_and_revokes_and_each_change_is_announced() -> (
    None
):
    service, _, published = await seeded()
    lijing = RoleAssignment("lijing", "accountant", "Q001")
    assert await service.assign(lijing, by=person("secadmin")) is True
    assert await service.assign(lijing, by=person("secadmin")) is False  # held already: no event
    assert await service.roles_of(person("lijing")) == [lijing]
    await service.revoke(lijing, by=person("secadmin"))
    assert await service.roles_of(person("lijing")) == []
    assigned, revoked = (e.data for e in published.events)
    assert isinstance(assigned, RoleAssigned) and assigned.assigned_by == "secadmin"
    assert isinstance(revoked, RoleRevoked) and revoked.revoked_by == "secadmin"
    assert (revoked.user, revoked.role, revoked.fonds_code) == ("lijing", "accountant", "Q001")
    with pytest.raises(NotFound):
        await service.revoke(lijing, by=person("secadmin"))


async def test_only_the_security_administrator_changes_roles() -> None:
    service, _, published = await seeded()
    for who in ("zhaomin", "secauditor", "lijing"):
        with pytest.raises(NotPermitted, match="security administrator only"):
            await service.assign(RoleAssignment("lijing", "archivist", "Q001"), by=person(who))
    assert published.events == []


async def test_no_assignment_breaks_separation_of_duties_or_widens_ones_own_powers() -> None:
    service, _, _ = await seeded()
    secadmin = person("secadmin")
    with pytest.raises(ChangeRefused, match="三员分立"):
        await service.assign(RoleAssignment("secauditor", "system_admin", "*"), by=secadmin)
    with pytest.raises(ChangeRefused, match="themself"):
        await service.assign(RoleAssignment("secadmin", "auditor", "*"), by=secadmin)
    with pytest.raises(ChangeRefused, match="their own"):
        await service.revoke(RoleAssignment("secadmin", "security_admin", "*"), by=secadmin)


async def test_a_change_is_kept_with_its_announcement_or_not_at_all() -> None:
    """The change and its event are one unit of work: an event that cannot be kept (the
    outbox's database failing mid-way) leaves the role as it was, and the change can be
    made again."""
    service, _, published = await seeded()
    lijing = RoleAssignment("lijing", "accountant", "Q001")
    published.down = True
    with pytest.raises(KafkaConnectionError):
        await service.assign(lijing, by=person("secadmin"))
    assert await service.roles_of(person("lijing")) == []
    published.down = False
    assert await service.assign(lijing, by=person("secadmin")) is True
    assert [type(e.data) for e in published.events] == [RoleAssigned]


async def test_a_grant_is_withdrawn_before_its_time_by_the_security_administrator_only() -> None:
    now = datetime.now(UTC)
    grant = Grant(
        uuid.uuid4(),
        "wangfang",
        ("read",),
        "Q001",
        (uuid.uuid4(),),
        now - timedelta(days=1),
        now + timedelta(days=6),
        uuid.uuid4(),
    )
    service, _, published = await seeded(grant)
    with pytest.raises(NotPermitted):
        await service.withdraw(grant.grant_id, by=person("zhaomin"))
    withdrawn = await service.withdraw(grant.grant_id, by=person("secadmin"))
    assert (withdrawn.reason, withdrawn.revoked_by, withdrawn.user) == (
        "withdrawn",
        "secadmin",
        "wangfang",
    )
    assert [type(e.data) for e in published.events] == [AccessRevoked]
    with pytest.raises(NotFound):
        await service.withdraw(uuid.uuid4(), by=person("secadmin"))
    ended = Grant(**{**grant.__dict__, "revoked_at": now})
    service, _, _ = await seeded(ended)
    with pytest.raises(AlreadyEnded):
        await service.withdraw(ended.grant_id, by=person("secadmin"))


def decision(request_id: uuid.UUID, outcome: str) -> Envelope[ApprovalDecided]:
    now = datetime.now(UTC)
    decided = ApprovalDecided(
        request_id=request_id,
        kind="borrowing",
        applicant="liuyang",
        fonds_code="Q001",
        record_ids=(uuid.uuid4(),),
        decision=outcome,
        approver="王强",
        comment="",
        oa_instance_id="OA-1",
        decided_at=now,
        access_until=now + timedelta(days=7) if outcome == "approved" else None,
        days=7,
    )
    return new_event(decided, source="/aap/approval", subject="s", correlation_id="c")


async def test_an_approval_revoked_in_the_oa_withdraws_its_grant_at_once_and_once() -> None:
    grants, published = Grants(), RecordingPublisher()
    fake_grants: Any = grants
    once: Any = Once()
    service = PermissionService(
        fake_grants, Roles(), once, published, InMemoryUnits(), "/aap/permission"
    )
    request = uuid.uuid4()
    await service.on_approval_decided(decision(request, "approved"))
    [grant] = grants.grants.values()
    revoked = decision(request, "revoked")
    await service.on_approval_decided(revoked)
    await service.on_approval_decided(revoked)  # redelivered
    await service.on_approval_decided(decision(request, "revoked"))  # the OA said it again
    assert [type(e.data) for e in published.events] == [AccessGranted, AccessRevoked]
    ended = published.events[1].data
    assert isinstance(ended, AccessRevoked)
    assert (ended.reason, ended.revoked_by, ended.request_id) == (
        "withdrawn_in_oa",
        "王强",
        request,
    )
    assert ended.grant_id == grant.grant_id and grant.grant_id in grants.revoked
    # A rejection or a cancellation grants nothing and revokes nothing.
    for outcome in ("rejected", "cancelled", "expired"):
        await service.on_approval_decided(decision(uuid.uuid4(), outcome))
    assert len(published.events) == 2


async def test_a_client_holds_no_grant_whatever_an_approval_says() -> None:
    """Once, the ERP's client filed a borrowing request and, approved in the OA, read the
    record. The approval service now refuses clients; a decision for one is set aside here."""
    grants, published = Grants(), RecordingPublisher()
    fake_grants: Any = grants
    once: Any = Once()
    service = PermissionService(
        fake_grants, Roles(), once, published, InMemoryUnits(), "/aap/permission"
    )
    approved = decision(uuid.uuid4(), "approved")
    for_erp = approved.model_copy(
        update={"data": approved.data.model_copy(update={"applicant": "service-account-aap-erp"})}
    )
    with pytest.raises(NoGrantForClients, match="borrowing grants are for people"):
        await service.on_approval_decided(for_erp)
    assert grants.grants == {} and published.events == []


async def test_a_grant_lists_only_the_records_it_covers() -> None:
    """Once, a Q001 grant listed the Q002 record its request named, though it covered none."""
    now = datetime.now(UTC)
    ours, theirs = uuid.uuid4(), uuid.uuid4()
    grant = Grant(
        uuid.uuid4(), "wangfang", ("read",), "Q001", (ours, theirs), now, now + timedelta(days=3),
        uuid.uuid4(),
    )  # fmt: skip
    grants = Grants(grant)
    grants.records |= {ours: "Q001", theirs: "Q002"}
    fake: Any = grants
    once: Any = Once()
    service = PermissionService(
        fake, Roles(), once, RecordingPublisher(), InMemoryUnits(), "/aap/permission"
    )
    [shown] = await service.grants_of("wangfang")
    assert shown.record_ids == (ours,)
