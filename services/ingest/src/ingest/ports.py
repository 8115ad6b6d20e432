"""What ingest's use cases need from the outside world, as small protocols (ports).

``app.py`` hands the use cases the real adapters (S3, PostgreSQL, Kafka, clamd, the worker pool);
unit tests hand them in-memory fakes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from contracts.envelope import Envelope
from contracts.events import DocumentIngested

T = TypeVar("T")


@dataclass(frozen=True)
class KeptVoucher:
    """A voucher taken under its natural key, and the event that announces it."""

    key: str
    document_id: uuid.UUID
    fingerprint: str  # ``ingest.domain.intake.same_content``
    event: DocumentIngested


class Publisher(Protocol):
    async def publish(self, event: Envelope[Any]) -> None: ...


class Originals(Protocol):
    """The ingest bucket: originals kept under their content address."""

    @property
    def bucket(self) -> str: ...

    async def exists(self, key: str) -> bool: ...

    async def put(self, key: str, data: bytes, media_type: str) -> None: ...

    async def put_file(self, key: str, path: Path, media_type: str) -> None: ...


class Scanner(Protocol):
    """A virus scanner (clamd): ScanUnavailable when it does not answer."""

    async def version(self) -> str: ...

    async def scan(self, data: bytes) -> str | None:
        """The signature found in ``data``, or None if clean."""


class Parsers(Protocol):
    """Where untrusted bytes are parsed: off the event loop, within limits
    (``servicekit.workers.WorkerPool``; LimitExceeded or WorkerFailed when it cannot)."""

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...


class Submissions(Protocol):
    async def record(
        self, submission_id: uuid.UUID, *, status: str, at: datetime, by: str, **details: Any
    ) -> None: ...


@dataclass(frozen=True)
class Booking:
    """Who booked an invoice: the document (and record) holding it, of which fonds (None: a
    booking made before the fonds was kept)."""

    document_id: str
    fonds_code: str | None


class InvoiceBookings(Protocol):
    """Invoices booked (重复入账 refused), keyed by the invoice."""

    async def holders(self, keys: Iterable[str]) -> dict[str, Booking]: ...

    async def claim(
        self, keys: list[str], document_id: uuid.UUID, fonds_code: str
    ) -> dict[str, Booking]:
        """Book every key for the document, or none: the conflicts (empty on success).
        Repeat-safe: a key the document booked before counts as booked."""


class VoucherKeys(Protocol):
    """Vouchers taken, by natural key, with the event that announced each."""

    async def get(self, key: str) -> KeptVoucher | None: ...

    async def claim(
        self, key: str, fingerprint: str, event: DocumentIngested
    ) -> KeptVoucher | None: ...
