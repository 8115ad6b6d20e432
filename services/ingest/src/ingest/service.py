"""Ingest's use cases: take an upload, read it off the event loop, check it, keep its originals,
say what was decided; and the same for each voucher of a journal or an archive package.

Intake is idempotent by the voucher's natural key (``contracts.records.voucher_key``): the same
content again answers with the document it made the first time, and nothing new is published;
other content under a key already taken is refused, naming the record that holds it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import structlog

from contracts.checks import conclude
from contracts.envelope import derived_event_id, new_event
from contracts.events import DocumentIngested, DocumentRejected, Problem
from contracts.fixity import content_key
from contracts.records import CheckConclusion, CheckResult, InvoiceVerification, StoredFile
from contracts.types import utc_now
from ingest.domain.intake import (
    Assessment,
    assess,
    booking_keys,
    described,
    ingested_event,
    natural_key,
    over_limits,
    received_invoices,
    refused_before_reading,
    same_content,
)
from ingest.domain.uploaders import Uploader
from ingest.parsers.files import ReadFile, UploadedFile, read_file, unreadable_file
from ingest.parsers.findings import Finding
from ingest.parsers.signatures import TrustAnchors
from ingest.parsers.sm2_verifier import Sm2Verifier
from ingest.ports import (
    Booking,
    InvoiceBookings,
    KeptVoucher,
    Originals,
    Parsers,
    Publisher,
    Scanner,
    Submissions,
    VoucherKeys,
)
from ingest.verifications import InvoiceChecks
from servicekit.database import UnitOfWork
from servicekit.workers import LimitExceeded, WorkerFailed

log = structlog.get_logger()


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    HELD_FOR_REVIEW = "held_for_review"
    REJECTED = "rejected"
    ALREADY_ACCEPTED = "already_accepted"  # the same content again: the earlier document
    CONFLICT = "conflict"  # other content under a key already taken: refused


@dataclass(frozen=True)
class IngestResult:
    outcome: Outcome
    event: DocumentIngested | DocumentRejected


@dataclass(frozen=True)
class Spooled:
    """An upload spooled to disk as it arrived (a journal, a package): never whole in memory."""

    path: Path
    filename: str
    size: int


class IngestService:
    def __init__(
        self,
        originals: Originals,
        submissions: Submissions,
        bookings: InvoiceBookings,
        keys: VoucherKeys,
        publisher: Publisher,
        unit: UnitOfWork,
        parsers: Parsers,
        source: str,
        scanner: Scanner | None = None,
        anchors: TrustAnchors | None = None,
        invoice_checks: InvoiceChecks | None = None,
        sm2: Sm2Verifier | None = None,
    ) -> None:
        self._unit = unit
        self._originals = originals
        self._submissions = submissions
        self._bookings = bookings
        self._keys = keys
        self._publisher = publisher
        self._parsers = parsers
        self._source = source
        self._scanner = scanner
        self._invoice_checks = invoice_checks  # 查验; None: no provider configured
        self._anchors = anchors or TrustAnchors()  # where signers' certificates must chain to
        self._sm2 = sm2  # None: OFD seals and SM2 signatures not verified; the reports say so

    async def ingest(
        self,
        voucher: UploadedFile,
        attachments: list[UploadedFile],
        *,
        uploader: Uploader,
        source_export: StoredFile | None = None,
        package_report: Sequence[CheckResult] = (),
    ) -> IngestResult:
        """Take one voucher with its attachments, or a material's description (role
        "description") with its files. OutOfScope, before anything is kept, for one of a fonds
        the uploader may not upload into."""
        user = uploader.name
        submission_id = uuid.uuid4()
        structlog.contextvars.bind_contextvars(correlation_id=str(submission_id))
        uploaded = [voucher, *attachments]
        if over := over_limits(voucher, attachments):  # nothing huge is read
            report, problems = refused_before_reading(over)
            return await self._reject(submission_id, voucher.filename, problems, report, user)
        files = await self._read(uploaded)
        d = described(files[0])
        if d is not None:
            uploader.require(d.fonds_code)
        virus_scan, scanner = await self._scan(uploaded)
        key = natural_key(d) if d else None
        fingerprint = same_content(d, files[1:]) if d else ""

        async def judged(
            booked: dict[str, Booking] | None = None, held: str | None = None
        ) -> Assessment:
            if booked is None:
                booked = await self._bookings.holders(booking_keys(files))
            return assess(
                files,
                # The record holding an invoice is named to whoever may see its fonds only.
                booked={
                    k: b.document_id if uploader.sees(b.fonds_code) else ""
                    for k, b in booked.items()
                },
                virus_scan=virus_scan,
                scanner=scanner,
                held_by=held,
                package_report=package_report,
                verified=verified,
            )

        held_by = None
        if key is not None and (kept := await self._keys.get(key)) is not None:
            if kept.fingerprint != fingerprint:
                held_by = str(kept.document_id)
            else:
                return IngestResult(Outcome.ALREADY_ACCEPTED, kept.event)

        verified = await self._verify(files)
        assessment = await judged(held=held_by)
        if not assessment.accepted:
            outcome = Outcome.CONFLICT if held_by else Outcome.REJECTED
            return await self._refuse(submission_id, voucher.filename, assessment, user, outcome)
        assert key is not None
        await self._keep(files, uploaded)  # an event never points at bytes that are not stored
        event = ingested_event(
            assessment,
            document_id=submission_id,
            bucket=self._originals.bucket,
            submitted_by=user,
            at=utc_now(),
            source_export=source_export,
        )
        try:
            kept = await self._take(key, fingerprint, event)
        except _InvoicesBooked as booked:
            # Another voucher booked the same invoice a moment ago: judge again, knowing it.
            refused = await judged(booked=booked.conflicts)
            return await self._refuse(submission_id, voucher.filename, refused, user)
        if kept is not None:
            # Another upload took the key a moment ago: the same voucher, or another one.
            if kept.fingerprint == fingerprint:
                return IngestResult(Outcome.ALREADY_ACCEPTED, kept.event)
            held = await judged(held=str(kept.document_id))
            return await self._refuse(submission_id, voucher.filename, held, user, Outcome.CONFLICT)
        log.info("document ingested", document_id=str(submission_id), key=key)
        outcome = Outcome.HELD_FOR_REVIEW if event.review_required else Outcome.ACCEPTED
        return IngestResult(outcome, event)

    async def _take(
        self, key: str, fingerprint: str, event: DocumentIngested
    ) -> KeptVoucher | None:
        """In one unit of work: the voucher's key taken, its invoices booked, the upload
        recorded and the event published — all of it, or nothing. None once done; whoever
        holds the key if another upload took it first; _InvoicesBooked (nothing kept) if
        another voucher booked one of its invoices first."""
        async with self._unit():
            if (kept := await self._keys.claim(key, fingerprint, event)) is not None:
                return kept  # the claim names whoever took the key first
            if conflicts := await self._bookings.claim(
                event.booking_keys, event.document_id, event.fonds_code
            ):
                raise _InvoicesBooked(conflicts)
            await self._submissions.record(
                event.document_id,
                status="accepted",
                at=event.submitted_at,
                by=event.submitted_by,
                what=event.title,
                files=[f.model_dump() for f in event.files],
                review_required=event.review_required,
                check_report=[r.model_dump() for r in event.check_report],
            )
            if self._invoice_checks is not None:
                await self._invoice_checks.keep(event)
            await self._publisher.publish(
                new_event(
                    event,
                    source=self._source,
                    subject=str(event.document_id),
                    correlation_id=str(event.document_id),
                    actor=event.submitted_by,
                    event_id=derived_event_id(event.document_id, DocumentIngested),
                )
            )
        return None

    async def _keep(self, files: Sequence[ReadFile], uploaded: Sequence[UploadedFile]) -> None:
        """Each original under its content address (kept once, whoever sent it first)."""
        for f, data in zip(files, uploaded, strict=True):
            key = content_key(f.ref.sha256)
            if not await self._originals.exists(key):
                await self._originals.put(key, data.data, data.media_type)

    async def reject_unreadable(
        self, filename: str, findings: Sequence[Finding], user: str
    ) -> IngestResult:
        """Refuse something that never got as far as the checks (e.g. a journal voucher that
        cannot be cut out of its rows)."""
        report, problems = refused_before_reading(findings)
        return await self._reject(uuid.uuid4(), filename, problems, report, user)

    async def _read(self, uploaded: Sequence[UploadedFile]) -> list[ReadFile]:
        """Every file read in the worker pool, each on its own under the limits."""

        async def one(position: int, f: UploadedFile) -> ReadFile:
            try:
                return await self._parsers.run(read_file, position, f, self._anchors, self._sm2)
            except (LimitExceeded, WorkerFailed) as error:
                reason = f"cannot be read: {error}"
                return await asyncio.to_thread(unreadable_file, position, f, reason)

        return list(await asyncio.gather(*(one(n, f) for n, f in enumerate(uploaded))))

    async def _verify(self, files: Sequence[ReadFile]) -> dict[str, InvoiceVerification] | None:
        """查验 of each invoice received, by number; None without a provider configured."""
        checks = self._invoice_checks
        if checks is None or not checks.configured:
            return None
        return await checks.at_intake(received_invoices(files))

    async def _scan(
        self, uploaded: Sequence[UploadedFile]
    ) -> tuple[list[str | None] | None, str | None]:
        """4-1 and 4-2: which scanner answered, and what it found in each file, by position.
        Unconfigured: (None, None), the scan not performed."""
        if self._scanner is None:
            return None, None
        scanner = await self._scanner.version()
        return [await self._scanner.scan(f.data) for f in uploaded], scanner

    async def _refuse(
        self,
        submission_id: uuid.UUID,
        filename: str,
        judged: Assessment,
        user: str,
        outcome: Outcome = Outcome.REJECTED,
    ) -> IngestResult:
        return await self._reject(
            submission_id,
            filename,
            judged.problems,
            judged.report,
            user,
            judged.conclusion,
            outcome,
        )

    async def _reject(
        self,
        submission_id: uuid.UUID,
        filename: str,
        problems: Sequence[Problem],
        report: Sequence[CheckResult],
        user: str,
        conclusion: CheckConclusion | None = None,
        outcome: Outcome = Outcome.REJECTED,
    ) -> IngestResult:
        at = utc_now()
        rejected = DocumentRejected(
            submission_id=submission_id,
            filename=filename,
            problems=tuple(problems),
            submitted_by=user,
            submitted_at=at,
            check_report=tuple(report),
            check_conclusion=conclusion or conclude(report),
        )
        async with self._unit():
            await self._submissions.record(
                submission_id,
                status="rejected",
                at=at,
                by=user,
                problems=[p.model_dump() for p in problems],
                check_report=[r.model_dump() for r in report],
            )
            await self._publisher.publish(
                new_event(
                    rejected,
                    source=self._source,
                    subject=str(submission_id),
                    correlation_id=str(submission_id),
                    actor=user,
                )
            )
        log.info(
            "upload rejected",
            submission_id=str(submission_id),
            problems=[p.message for p in problems],
        )
        return IngestResult(outcome, rejected)


class _InvoicesBooked(Exception):
    """Another voucher booked one of the invoices first: the unit of work is rolled back."""

    def __init__(self, conflicts: dict[str, Booking]) -> None:
        super().__init__(sorted(conflicts))
        self.conflicts = conflicts
