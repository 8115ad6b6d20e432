"""What permission's use cases need from the outside world (ports); ``app.py`` hands them the
real adapters, unit tests in-memory fakes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from contracts.envelope import Envelope
from contracts.events import RoleAssigned, RoleRevoked
from permission.domain.access import Grant, RoleAssignment

RoleChange = Envelope[RoleAssigned] | Envelope[RoleRevoked]


@dataclass(frozen=True)
class Pending:
    """A role change kept, and perhaps not yet announced."""

    key: str
    element: dict[str, Any]  # as the store keeps it
    change: RoleChange


class Publisher(Protocol):
    async def publish(self, event: Envelope[Any]) -> None: ...


class RoleStore(Protocol):
    async def held(self, user: str | None = None) -> list[RoleAssignment]: ...

    async def is_empty(self) -> bool: ...

    async def assign(
        self, a: RoleAssignment, announce: Envelope[RoleAssigned]
    ) -> Pending | None: ...

    async def revoke(
        self, a: RoleAssignment, announce: Envelope[RoleRevoked]
    ) -> Pending | None: ...

    async def pending(self) -> list[Pending]: ...

    async def announced(self, pending: Pending) -> None: ...


class GrantStore(Protocol):
    async def add(self, g: Grant) -> None: ...

    async def get(self, grant_id: uuid.UUID) -> Grant | None: ...

    async def for_user_record(self, user: str, record_id: uuid.UUID) -> list[Grant]: ...

    async def for_user(self, user: str) -> list[Grant]: ...

    async def due_for_revocation(self, now: datetime) -> list[Grant]: ...

    async def mark_revoked(self, grant_id: uuid.UUID, at: datetime) -> bool: ...

    async def remember_record(self, record_id: uuid.UUID, fonds_code: str) -> None: ...

    async def fonds_of(self, record_id: uuid.UUID) -> str | None: ...
