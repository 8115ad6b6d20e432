"""What permission's use cases need from the outside world (ports); ``app.py`` hands them the
real adapters, unit tests in-memory fakes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

from contracts.envelope import Envelope
from permission.domain.access import Grant, RoleAssignment
from servicekit.auth import Person


class Publisher(Protocol):
    async def publish(self, event: Envelope[Any]) -> None: ...


class RoleStore(Protocol):
    """Roles are held by people (the IdP's subject); the security administrator names them by
    the name they go by now."""

    async def held_by(self, who: Person) -> list[RoleAssignment]:
        """What ``who`` holds; the first time they are seen under a name, the roles given to
        that name while nobody went by it become theirs."""

    async def held(self, user: str | None = None) -> list[RoleAssignment]:
        """What the person ``user`` names holds; None: every role held."""

    async def is_empty(self) -> bool: ...

    async def assign(self, a: RoleAssignment) -> RoleAssignment | None:
        """Hold ``a``; as held (with its subject), or None if held already."""

    async def revoke(self, a: RoleAssignment) -> RoleAssignment | None:
        """End ``a``; as ended, or None if not held."""


class GrantStore(Protocol):
    async def add(self, g: Grant) -> None: ...

    async def get(self, grant_id: uuid.UUID) -> Grant | None: ...

    async def for_user_record(self, user: str, record_id: uuid.UUID) -> list[Grant]: ...

    async def for_user(self, user: str) -> list[Grant]: ...

    async def due_for_revocation(self, now: datetime) -> list[Grant]: ...

    async def mark_revoked(self, grant_id: uuid.UUID, at: datetime) -> bool: ...

    async def remember_record(self, record_id: uuid.UUID, fonds_code: str) -> None: ...

    async def fonds_of(self, record_id: uuid.UUID) -> str | None: ...
