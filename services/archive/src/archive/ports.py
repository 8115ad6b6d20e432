"""What archive's use cases need from the outside world, as small protocols (ports).

The use cases import these and the domain only; ``app.py`` hands them the real adapters (PostgreSQL,
S3, Kafka, the permission service's HTTP API) and unit tests hand them in-memory fakes.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from archive.domain.approval_record import Waiting
from archive.domain.completeness import Kept
from archive.domain.corrections import WaitingCorrection
from archive.domain.lifecycle import HandoverOffer, LegalHold
from archive.domain.recheck import Finding
from archive.domain.search import Hits, SearchCriteria, Visibility
from archive.domain.volumes import BoundVolume
from archive.domain.watermark import Copy, Page, Watermark
from contracts.checks import Stage
from contracts.envelope import Envelope
from contracts.events import (
    ApprovalDecided,
    ApprovalRecordLinked,
    GapWaived,
    OaApprovalCompleted,
    PaperVolumeRegistered,
    RecordArchived,
    RecordReviewed,
    RecordsHandedOver,
)
from contracts.fixity import Digests
from contracts.records import BankAccount, CorrectionLink
from servicekit.auth import Person
from servicekit.exports import Register


class Publisher(Protocol):
    async def publish(self, event: Envelope[Any]) -> None: ...


class AccessDenied(Exception):
    """The permission service says no; the message is its reason."""


class NotYetKnown(Exception):
    """The permission service has not yet heard of a record the archive holds (it learns of
    records from RecordArchived, a moment after archiving): nobody's rights decided yet."""


class Permissions(Protocol):
    """The permission service's answers; each ``require…`` raises AccessDenied when it says no
    (NotYetKnown when it has not yet heard of the record)."""

    async def require(self, user: Person, action: str, record_id: object) -> uuid.UUID | None:
        """The grant the action is allowed under (None: a role)."""
        ...

    async def require_fonds(self, user: Person, action: str, fonds_code: str) -> None: ...

    async def visibility(self, user: Person, action: str) -> Visibility: ...


class Integrity(Protocol):
    """Re-checks of kept records (``archive.integrity.IntegrityService``)."""

    async def findings_of(
        self, record_ids: Iterable[uuid.UUID], stage: Stage = ...
    ) -> dict[uuid.UUID, list[Finding]]:
        """Each record's findings, re-checked with the stage's table."""
        ...


class ArchiveRecords(Protocol):
    """The archive records as accession and reading keep and find them (``adapters.records``)."""

    async def get(self, record_id: uuid.UUID) -> RecordArchived | None: ...

    async def get_locked(
        self, record_id: uuid.UUID
    ) -> tuple[RecordArchived, dict[str, str | None]] | None: ...

    async def as_archived(
        self, record_id: uuid.UUID
    ) -> tuple[RecordArchived, dict[str, str | None]] | None:
        """The record exactly as archived (what its package holds, without what was recorded
        since: a fixed-asset card's disposal), and per object key the version locked."""

    async def add(self, record: RecordArchived, versions: dict[str, str | None]) -> RecordArchived:
        """Insert; the stored one if the record exists already (a redelivery)."""

    async def claim_key(self, key: str, record_id: uuid.UUID) -> uuid.UUID:
        """Take a voucher's natural key for the record; the record holding it."""

    async def next_sequence(self, scope: str, holder: str) -> int: ...

    async def by_code(self, archive_code: str) -> RecordArchived | None: ...

    async def holder_of(self, key: str) -> uuid.UUID | None:
        """The record holding a voucher's natural key, if one does."""

    async def corrections_of(self, record_id: uuid.UUID) -> list[RecordArchived]:
        """The records that correct this one, oldest first."""

    async def add_approval(self, decided: ApprovalDecided) -> None: ...

    async def approvals(self, record_id: uuid.UUID) -> list[dict[str, Any]]: ...

    def all_ids(self) -> AsyncIterator[str]: ...


class RecordIndex(Protocol):
    """The search index of the records (``adapters.search_index``)."""

    async def add(self, record: RecordArchived) -> None: ...

    async def reviewed(self, record_id: str) -> None: ...

    async def search(
        self, c: SearchCriteria, visible: Visibility, limit: int, offset: int, *, with_total: bool
    ) -> Hits: ...

    async def versions(self, base: str) -> list[dict[str, Any]]: ...

    async def holding_invoice(self, invoice_number: str) -> str | None: ...

    async def holding_file(self, sha256: str) -> str | None: ...


class OriginalStore(Protocol):
    """The archive bucket: originals and packages under COMPLIANCE locks (``servicekit.s3``)."""

    @property
    def bucket(self) -> str: ...

    async def copy_locked_from(
        self,
        source_bucket: str,
        source_key: str,
        key: str,
        *,
        until: datetime | None,
        legal_hold: bool,
        source_version: str | None = None,
    ) -> str | None: ...

    async def digest_from(self, bucket: str, key: str) -> tuple[Digests, str | None]:
        """The digests of an object in another bucket as stored now, and the version read."""

    async def put_locked(
        self, key: str, data: bytes, media_type: str, *, until: datetime | None, legal_hold: bool
    ) -> str | None:
        """The version written (None: a store without versions)."""
        ...

    async def get(self, key: str, version_id: str | None = None) -> bytes: ...

    async def set_retention(self, key: str, version_id: str | None, until: datetime) -> None:
        """Lock a kept version under COMPLIANCE retention until ``until``."""

    async def set_legal_hold(self, key: str, version_id: str | None, on: bool) -> None: ...

    async def versions(self, prefix: str) -> dict[str, list[str]]:
        """Each key under ``prefix`` and its versions, oldest first."""
        ...

    async def lock(self, key: str, version_id: str | None) -> tuple[datetime | None, bool]:
        """A version's COMPLIANCE retention date (None: none) and whether a legal hold is on."""
        ...


class VirusScanner(Protocol):
    """ClamAV's clamd (``servicekit.clamd``): what the re-check's 4-1 and 4-2 ask."""

    async def scan(self, data: bytes) -> str | None:
        """The signature found in ``data``, or None if clean."""
        ...

    async def version(self) -> str: ...


class HandoverRecords(Protocol):
    """The archive records as the handover use case reads and moves them."""

    async def in_accounting_custody(
        self, fonds_code: str, fiscal_year: int
    ) -> list[RecordArchived]: ...

    async def custody_years(self, fonds_code: str) -> dict[int, int]: ...

    async def move_to_archive(self, handover: RecordsHandedOver) -> None: ...

    async def awaiting_review(self, record_id: uuid.UUID) -> bool: ...


class CorrectionStore(Protocol):
    """Corrections waiting for the voucher they name (``adapters.corrections``)."""

    async def wait(self, waiting: WaitingCorrection) -> None:
        """Keep a correction waiting (repeat-safe)."""

    async def waiting_for(
        self, keys: Sequence[str], fonds_code: str
    ) -> list[WaitingCorrection]: ...

    async def link(self, correction: uuid.UUID, link: CorrectionLink) -> bool:
        """Link a correction, once (False if it was linked before); it no longer waits."""


class YearBooks(Protocol):
    """What a fonds holds of a year, for the completeness check, and the gaps waived."""

    async def voucher_numbers(self, fonds_code: str, fiscal_year: int) -> dict[int, list[str]]: ...

    async def materials(self, fonds_code: str, fiscal_year: int) -> list[Kept]: ...

    async def bank_accounts(self, fonds_code: str, fiscal_year: int) -> list[BankAccount]: ...

    async def waive(self, waived: GapWaived) -> bool:
        """Keep a waiver; False if the gap was waived already (the first waiver stands)."""

    async def waivers(self, fonds_code: str, fiscal_year: int) -> list[GapWaived]: ...


class RecordStore(Protocol):
    """The archive records as the custody use case reads and changes them."""

    async def record_disposal(self, card: RecordArchived) -> bool:
        """Keep a fixed-asset card's disposal; False if one was recorded already."""

    async def get(self, record_id: uuid.UUID) -> RecordArchived | None: ...

    async def get_locked(
        self, record_id: uuid.UUID
    ) -> tuple[RecordArchived, dict[str, str | None]] | None:
        """The record and, per original's object key, the object version locked at archiving."""

    async def of_year(
        self, fonds_code: str, fiscal_year: int
    ) -> list[tuple[RecordArchived, bool]]: ...

    async def past_retention(
        self, fonds_code: str, as_of: date
    ) -> list[tuple[RecordArchived, LegalHold | None]]: ...

    async def voucher_numbers(
        self, fonds_code: str, fiscal_year: int, period: int
    ) -> list[str]: ...

    async def set_review(self, record_id: uuid.UUID, review: dict[str, Any]) -> None: ...


class HoldStore(Protocol):
    """Legal holds (第十九条) as a log of changes per record (``adapters.holds``)."""

    async def current(self, record_id: uuid.UUID) -> tuple[int, LegalHold | None]:
        """(the number of the latest change, the hold it leaves; None: not on hold)."""

    async def change(self, record_id: uuid.UUID, after: int, hold: LegalHold | None) -> None:
        """Append the change that follows change ``after``: HoldConflict if another came first."""


class ReviewStore(Protocol):
    """Archivists' decisions on held records (``adapters.reviews``)."""

    async def decide(self, reviewed: RecordReviewed) -> None:
        """Keep the decision; HoldConflict if the record was decided already."""


class ReviewIndex(Protocol):
    """The search index, told that a held record was decided."""

    async def reviewed(self, record_id: str) -> None: ...


class LockStore(Protocol):
    """The object store's legal holds on locked originals."""

    async def set_legal_hold(self, key: str, version_id: str | None, on: bool) -> None: ...


class HandoverStore(Protocol):
    """Handovers (移交) as kept: open marks, started handovers, record claims, bound volumes."""

    async def open(self, fonds_code: str, fiscal_year: int, handover_id: uuid.UUID) -> None:
        """Mark a handover of the year as under way; HandoverRefused if another one is."""

    async def close(self, fonds_code: str, fiscal_year: int, handover_id: uuid.UUID) -> None:
        """Take this handover's mark away (nothing if the mark is another's)."""

    async def start(self, handover: RecordsHandedOver, volumes: list[BoundVolume]) -> None:
        """Keep the handover, then claim each of its records for it; HandoverRefused (and
        nothing kept) if a record is claimed by another handover."""

    async def claim(self, handover: RecordsHandedOver) -> None:
        """Claim (again) every record of the handover for it; repeat-safe."""

    async def unfinished(
        self, fonds_code: str | None = None, fiscal_year: int | None = None
    ) -> list[tuple[RecordsHandedOver, list[BoundVolume]]]: ...

    async def bind(self, handover: RecordsHandedOver, volumes: list[BoundVolume]) -> None: ...

    async def finish(self, handover: RecordsHandedOver) -> None: ...

    async def bound_volumes(self, fonds_code: str, fiscal_year: int) -> list[BoundVolume]: ...

    async def custody_extensions(self, fonds_code: str) -> dict[int, int]: ...

    async def extend_custody(self, extension: dict[str, Any]) -> bool:
        """Keep a consent reaching further than any before; False if one as far came first."""

    async def offer(self, offer: HandoverOffer) -> HandoverOffer:
        """Keep the offer; the open offer of its fonds and year if there is one already."""

    async def offer_of(self, offer_id: uuid.UUID) -> HandoverOffer | None: ...

    async def accepted(self, offer_id: uuid.UUID, handover_id: uuid.UUID) -> None: ...

    async def supervised(self, offer_id: uuid.UUID, by: str, at: datetime) -> bool:
        """Note the 监交人's confirmation of an open offer naming them; False if it was noted
        already (or the offer is no longer open)."""


class Renditions(Protocol):
    """What a borrower sees and takes away, made from an original where a crafted file cannot
    harm the service; each raises ``NotRenderable`` saying why it cannot."""

    async def page(self, media_type: str, data: bytes, number: int, mark: Watermark) -> Page: ...

    async def copy(self, filename: str, media_type: str, data: bytes, mark: Watermark) -> Copy: ...


class PaperVolumeStore(Protocol):
    """The register of paper archives (``adapters.paper_volumes``)."""

    async def add(self, volume: PaperVolumeRegistered) -> None: ...

    async def of_record(self, record_id: uuid.UUID) -> list[dict[str, object]]: ...


class RegisterRenderer(Protocol):
    """A register (清册) as the files it is kept as, (PDF, XLSX): the same bytes each time."""

    async def render(self, register: Register, at: datetime) -> tuple[bytes, bytes]: ...


class MadeRecords(Protocol):
    """Where a record the platform makes itself is kept (``archive.made_records``)."""

    async def get(self, record_id: uuid.UUID) -> RecordArchived | None: ...

    async def add(self, record: RecordArchived, versions: dict[str, str | None]) -> RecordArchived:
        """Insert; the stored one if the record exists already (a repeat)."""


class ListRecords(MadeRecords, Protocol):
    """The archive records as a register kept as a record needs them."""

    async def next_sequence(self, scope: str, holder: str) -> int: ...

    async def of_year(
        self, fonds_code: str, fiscal_year: int
    ) -> list[tuple[RecordArchived, bool]]: ...


class HandoverListKeeper(Protocol):
    """Keeps a handover's 移交清册 as a record (``archive.handover_lists``)."""

    async def numbered(
        self, fonds_code: str, fiscal_year: int, handover_id: uuid.UUID
    ) -> tuple[str, uuid.UUID]:
        """The list's 档号 and record id, given once per handover."""

    async def archive(
        self, handover: RecordsHandedOver, volumes: Sequence[BoundVolume]
    ) -> RecordArchived | None: ...


class ApprovalRenderer(Protocol):
    """An OA approval as a PDF a reader opens: the record's readable original."""

    async def render(self, approval: OaApprovalCompleted, archive_code: str) -> bytes: ...


class ApprovalLinks(Protocol):
    """OA approval records, the business keys they and the vouchers meet by, and the links."""

    async def keep_approval(self, record_id: uuid.UUID, approval: OaApprovalCompleted) -> None: ...

    async def approval(self, record_id: uuid.UUID) -> OaApprovalCompleted | None: ...

    async def meet(self, key: str, side: str, record_id: uuid.UUID, other: str) -> list[uuid.UUID]:
        """Note the record on its ``side`` of ``key``, then return the records noted on the
        ``other`` side so far. Of two records noting one key at once, at least one sees the
        other (each writes before it reads)."""
        ...

    async def link(self, link: ApprovalRecordLinked) -> None:
        """Keep the link on both records (repeat-safe)."""
        ...

    async def links_of(self, record_id: uuid.UUID) -> list[ApprovalRecordLinked]: ...

    async def await_approval(self, waiting: Waiting) -> None:
        """The voucher waits for its approval record (since the first time it was noted)."""
        ...

    async def arrived(self, voucher_id: uuid.UUID) -> None: ...

    async def waiting(self, fonds_code: str) -> list[Waiting]: ...
