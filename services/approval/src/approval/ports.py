"""What approval's use cases need from the outside world (ports); ``app.py`` hands them the
real adapters, unit tests in-memory fakes."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from approval.domain.borrowing import BorrowingRequest, Decision
from contracts.envelope import Envelope
from contracts.topics import Topic


class Publisher(Protocol):
    async def publish(self, event: Envelope[Any], to: Topic | None = None) -> None: ...


class RequestStore(Protocol):
    async def add(self, r: BorrowingRequest) -> None: ...

    async def get(self, request_id: uuid.UUID) -> BorrowingRequest | None: ...

    async def save_decision(self, decision: Decision) -> bool:
        """Store the decision unless one is stored already. True if this one was stored."""
        ...


class NonceStore(Protocol):
    async def first_use(self, nonce: str) -> bool: ...


class ProcessedEvents(Protocol):
    async def handle_once(
        self, event: Envelope[Any], work: Callable[[], Awaitable[None]]
    ) -> bool: ...
