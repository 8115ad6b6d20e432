"""What approval's use cases need from the outside world (ports); ``app.py`` hands them the
real adapters, unit tests in-memory fakes."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any, Protocol

from approval.domain.borrowing import BorrowingRequest
from approval.vendors.events import OaInstance, Step
from contracts.envelope import Envelope
from contracts.events import RecordArchived
from contracts.topics import Topic


class Publisher(Protocol):
    async def publish(self, event: Envelope[Any], to: Topic | None = None) -> None: ...


class RequestStore(Protocol):
    async def add(self, r: BorrowingRequest) -> None: ...

    async def get(self, request_id: uuid.UUID) -> BorrowingRequest | None: ...

    async def open_before(self, cutoff: datetime) -> list[uuid.UUID]:
        """Requests filed before ``cutoff`` and not known to be decided (some may be)."""
        ...

    async def closed(self, request_id: uuid.UUID) -> None:
        """The request is decided: the expiry sweep need not look at it again."""
        ...

    async def save_change(self, request: BorrowingRequest) -> bool:
        """Store the request's latest change as its n-th, unless another delivery stored an
        n-th first. True if this one was stored."""
        ...

    async def instance(self, connection: str, instance: str) -> OaInstance | None:
        """The request an OA instance runs, the trail reported so far, the events seen."""
        ...

    async def record_event(
        self, connection: str, instance: str, event_id: str, steps: tuple[Step, ...]
    ) -> None:
        """Remember a vendor event as handled, with the trail steps it reported (once)."""
        ...


class NonceStore(Protocol):
    async def first_use(self, nonce: str) -> bool: ...


class ProcessedEvents(Protocol):
    async def handle_once(
        self, event: Envelope[Any], work: Callable[[], Awaitable[None]]
    ) -> bool: ...


class RecordTitles(Protocol):
    """What the service heard of archived records from RecordArchived: the fonds each is of,
    and how an OA's form names it (档号 and 摘要)."""

    async def learn(self, record: RecordArchived) -> None: ...

    async def titles(self, record_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The titles of the records heard of; the others are missing from the answer."""
        ...

    async def fonds_of(self, record_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The fonds of each record heard of; the others are missing from the answer."""
        ...


class ApprovalStarter(Protocol):
    """Starts a request's approval in its OA, where the OA is a vendor's product (the others
    read the request from their Kafka topic)."""

    def check(self, request: BorrowingRequest) -> None:
        """Refuses (``NoOaUser``) a request its OA cannot be asked about."""
        ...

    async def start(self, request: BorrowingRequest) -> BorrowingRequest:
        """The request once its OA was asked: bound to the OA's instance, or marked
        ``oa_unreachable`` with the reason, to be asked again later."""
        ...

    async def cancel(self, request: BorrowingRequest, reason: str) -> None:
        """Withdraw the request's approval in its OA, where the vendor allows it."""
        ...


class StartStore(Protocol):
    async def started(self, request_id: uuid.UUID, connection: str, instance: str) -> None: ...

    async def start_failed(
        self, request_id: uuid.UUID, reason: str, attempts: int, retry_at: datetime
    ) -> None: ...

    async def starts_due(self, now: datetime) -> list[tuple[uuid.UUID, int]]:
        """The requests whose OA is to be asked again now, with the attempts made so far."""
        ...
