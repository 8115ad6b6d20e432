"""What ingest's use cases need from the outside world, as small protocols (ports).

``app.py`` hands the use cases the real adapters (S3, PostgreSQL, Kafka, clamd, the worker pool);
unit tests hand them in-memory fakes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, TypeVar

from contracts.envelope import Envelope
from contracts.events import DocumentIngested
from contracts.records import InvoiceStatus, InvoiceVerification

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


@dataclass(frozen=True)
class InvoiceQuery:
    """What 查验 asks the tax platform about one invoice: its key fields, as read."""

    number: str
    code: str | None  # an older invoice's 发票代码; None for a 数电票
    issue_date: str  # YYYY-MM-DD
    total: Decimal  # 价税合计, what a 数电票 is asked by
    seller_tax_id: str
    check_code: str | None = None  # an older 普通发票's 校验码, of which 查验 asks the last 6


class VerifierUnavailable(Exception):
    """The tax platform (or the provider in front of it) did not answer: down, too busy, over
    the day's limit for the invoice. The invoice is asked again later."""


class InvoiceVerifier(Protocol):
    """查验: the tax platform's answer about one invoice."""

    @property
    def provider(self) -> str: ...

    async def verify(self, query: InvoiceQuery) -> tuple[InvoiceStatus, str]:
        """The invoice's status and the platform's own words; VerifierUnavailable without."""


@dataclass(frozen=True)
class Verification:
    """One invoice's 查验 as ingest keeps it: the latest answer, and when to ask again."""

    document_id: uuid.UUID
    fonds_code: str
    booking_key: str
    query: InvoiceQuery
    verification: InvoiceVerification
    attempts: int
    next_at: datetime | None  # None once the platform answered


class Verifications(Protocol):
    """Ingest's register of 查验: each invoice's latest answer, and those still to be asked."""

    async def record(self, v: Verification) -> None:
        """Keep it (insert, or replace the same document's invoice)."""

    async def due(self, now: datetime, limit: int) -> list[Verification]:
        """Those to ask again by ``now``, locked for this unit of work (others skip them)."""

    async def listing(
        self, fonds_codes: Iterable[str] | None, unanswered_only: bool
    ) -> list[Verification]: ...
