"""Which roles a principal holds: asked of the permission service, which owns role assignments.

A service decides what a caller may do from these, never from claims in the caller's token.
Roles are held by a person as the IdP knows them, its subject (``servicekit.auth.Person``), so
every question names the subject with the name: an account re-created under an old name does not
inherit the old account's roles, a renamed one keeps its own. Answers are cached per subject and
forgotten when the permission service announces a change (``RoleAssigned``/``RoleRevoked``,
followed by ``follow_role_changes``); the cache also expires after ``ttl`` seconds, which bounds
how long a change missed while the follower was not yet reading can go unseen.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar
from urllib.parse import quote

import httpx
from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from contracts.events import RoleAssignedEvent, RoleRevokedEvent
from contracts.roles import fonds_where
from contracts.topics import ROLE_CHANGES
from servicekit.auth import Person, ServiceToken
from servicekit.settings import PlatformSettings

T = TypeVar("T")


@dataclass(frozen=True)
class HeldRole:
    role: str  # contracts.roles.Role
    fonds_code: str  # 全宗号 the role is held in; "*" for every fonds


@dataclass(frozen=True)
class Holder:
    """A principal and the roles the permission service says they hold."""

    name: str
    roles: tuple[HeldRole, ...]

    def fonds_where(self, action: str) -> frozenset[str]:
        """The fonds in which this principal may ``action``; "*" among them: every fonds."""
        return fonds_where(((r.role, r.fonds_code) for r in self.roles), action)


class KeptRoles(Generic[T]):
    """Roles read per person (by subject), each kept at most ``ttl`` seconds (from the moment
    they were asked for: a change made while the answer was on its way is not hidden), while the
    person goes by the name they were read under (renamed, they are read again), and forgotten
    on demand, when a change is announced."""

    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._kept: dict[str, tuple[float, str, T]] = {}

    def get(self, who: Person) -> T | None:
        kept = self._kept.get(who.subject)
        if kept is None or kept[1] != who.name or time.monotonic() - kept[0] >= self._ttl:
            return None
        return kept[2]

    def keep(self, who: Person, value: T, asked_at: float) -> None:
        self._kept[who.subject] = (asked_at, who.name, value)

    def forget(self, subject: str) -> None:
        self._kept.pop(subject, None)


class RoleDirectory:
    """Each call carries this service's own token (client-credentials grant)."""

    def __init__(
        self,
        base_url: str,
        token: ServiceToken,
        transport: httpx.AsyncBaseTransport | None = None,
        ttl: float = 60,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url, timeout=5, transport=transport, auth=token.auth()
        )
        self._kept: KeptRoles[Holder] = KeptRoles(ttl)

    async def holder(self, who: Person) -> Holder:
        if (kept := self._kept.get(who)) is not None:
            return kept
        asked_at = time.monotonic()
        # A path segment from data is escaped: a name is never read as a path, query or fragment.
        response = await self._http.get(
            f"/v1/roles/{quote(who.name, safe='')}", params={"subject": who.subject}
        )
        response.raise_for_status()
        roles = tuple(HeldRole(r["role"], r["fonds_code"]) for r in response.json())
        held = Holder(who.name, roles)
        self._kept.keep(who, held, asked_at)
        return held

    def forget(self, subject: str) -> None:
        self._kept.forget(subject)

    async def close(self) -> None:
        await self._http.aclose()


class Forgets(Protocol):
    """A cache of people's roles, by subject (RoleDirectory, the permission service's own)."""

    def forget(self, subject: str) -> None: ...


def follow_role_changes(
    broker: KafkaBroker, platform: PlatformSettings, directory: Forgets
) -> None:
    """Forget a person's cached roles when they change: every replica hears every change, so
    this reads without a consumer group, from the newest message on. A change to roles nobody
    has signed in for yet (no subject) was never cached."""
    topics = [t.name(platform.namespace) for t in ROLE_CHANGES]

    # No group: nothing committed, each replica from the newest message on.
    @broker.subscriber(
        *topics, group_id=None, auto_offset_reset="latest", ack_policy=AckPolicy.MANUAL
    )
    async def on_role_changed(event: RoleAssignedEvent | RoleRevokedEvent) -> None:
        if event.data.subject is not None:
            directory.forget(event.data.subject)
