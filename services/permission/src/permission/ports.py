"""What permission's use cases need from the outside world (ports); ``app.py`` hands them the
real adapters, unit tests in-memory fakes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

from contracts.envelope import Envelope
from permission.domain.access import Grant, RoleAssignment


class Publisher(Protocol):
    async def publish(self, event: Envelope[Any]) -> None: ...


class RoleStore(Protocol):
    async def held(self, user: str | None = None) -> list[RoleAssignment]: ...

    async def is_empty(self) -> bool: ...

    async def assign(self, a: RoleAssignment) -> bool:
        """Hold ``a``; False if held already."""

    async def revoke(self, a: RoleAssignment) -> bool:
        """End ``a``; False if not held."""


class GrantStore(Protocol):
    async def add(self, g: Grant) -> None: ...

    async def get(self, grant_id: uuid.UUID) -> Grant | None: ...

    async def for_user_record(self, user: str, record_id: uuid.UUID) -> list[Grant]: ...

    async def for_user(self, user: str) -> list[Grant]: ...

    async def due_for_revocation(self, now: datetime) -> list[Grant]: ...

    async def mark_revoked(self, grant_id: uuid.UUID, at: datetime) -> bool: ...

    async def remember_record(self, record_id: uuid.UUID, fonds_code: str) -> None: ...

    async def fonds_of(self, record_id: uuid.UUID) -> str | None: ...
