"""Ingest's use case: take an upload, check it, store its originals, say what was decided."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import structlog

from contracts.envelope import new_event
from contracts.events import DocumentIngested, DocumentRejected, Problem
from contracts.fixity import digest
from contracts.records import CheckResult, StoredFile
from contracts.types import utc_now
from ingest.adapters.clamd import Clamd
from ingest.adapters.invoice_bookings import InvoiceBookings
from ingest.adapters.submissions import Submissions
from ingest.domain.archive_package import OpenedPackage, open_package
from ingest.domain.files import UploadedFile, media_type_of
from ingest.domain.intake import Assessment, assess, ingested_event
from ingest.domain.journal import JournalProfile, read_journal
from ingest.domain.journal_xlsx import XLSX, is_xlsx
from ingest.domain.journal_xml import read_xml_journal
from ingest.domain.voucher_export import ExportError
from servicekit.kafka import EventPublisher
from servicekit.s3 import ObjectStore

log = structlog.get_logger()


@dataclass(frozen=True)
class IngestResult:
    accepted: bool
    event: DocumentIngested | DocumentRejected


class IngestService:
    def __init__(
        self,
        store: ObjectStore,
        submissions: Submissions,
        bookings: InvoiceBookings,
        publisher: EventPublisher,
        source: str,
        scanner: Clamd | None = None,
    ) -> None:
        self._scanner = scanner
        self._store = store
        self._submissions = submissions
        self._bookings = bookings
        self._publisher = publisher
        self._source = source

    async def ingest(
        self,
        voucher: UploadedFile,
        attachments: list[UploadedFile],
        *,
        user: str,
        source_export: StoredFile | None = None,
    ) -> IngestResult:
        submission_id = uuid.uuid4()
        structlog.contextvars.bind_contextvars(correlation_id=str(submission_id))
        try:
            assessment = await self._assess(voucher, attachments)
        except ExportError as error:  # over the hard limits: nothing was parsed
            problems = [Problem(field=f, message=m) for _, f, m in error.problems]
            return await self._reject(submission_id, voucher, problems, [], user)
        if not assessment.accepted:
            return await self._reject(
                submission_id, voucher, assessment.problems, assessment.report, user
            )

        # Originals first: an event must never point at bytes that are not stored.
        for original in assessment.originals:
            key = original.digests.content_key
            if not await self._store.exists(key):
                await self._store.put(key, original.file.data, original.file.media_type)
        keys = [i.booking_key for i in assessment.invoices]
        if conflicts := await self._bookings.claim(keys, submission_id):
            # Another upload booked the same invoice a moment ago: judge again, knowing it.
            assessment = await self._assess(voucher, attachments, conflicts)
            return await self._reject(
                submission_id, voucher, assessment.problems, assessment.report, user
            )
        return await self._accept(submission_id, assessment, user, source_export)

    async def reject_unreadable(
        self, filename: str, problems: list[Problem], user: str
    ) -> IngestResult:
        """Refuse something that never got as far as the checks (e.g. a journal voucher that
        cannot be cut out of its rows)."""
        file = UploadedFile("voucher", filename, "application/json", b"")
        return await self._reject(uuid.uuid4(), file, problems, [], user)

    async def _scan(self, files: list[UploadedFile]) -> dict[str, str | None] | None:
        """4-2: ask clamd about every file. Unconfigured: None (the check is not performed)."""
        if self._scanner is None:
            return None
        return {f.filename: await self._scanner.scan(f.data) for f in files}

    async def _assess(
        self,
        voucher: UploadedFile,
        attachments: list[UploadedFile],
        booked: dict[str, str] | None = None,
    ) -> Assessment:
        scan = await self._scan([voucher, *attachments])
        assessment = assess(voucher, attachments, booked=booked, virus_scan=scan)
        keys = [i.booking_key for i in assessment.invoices]
        if booked is None and keys and (holders := await self._bookings.holders(keys)):
            assessment = assess(voucher, attachments, booked=holders, virus_scan=scan)
        return assessment

    async def _accept(
        self,
        submission_id: uuid.UUID,
        assessment: Assessment,
        user: str,
        source_export: StoredFile | None,
    ) -> IngestResult:
        at = utc_now()
        event = ingested_event(
            assessment,
            document_id=submission_id,
            bucket=self._store.bucket,
            submitted_by=user,
            at=at,
            source_export=source_export,
        )
        await self._submissions.record(
            submission_id,
            status="accepted",
            at=at,
            by=user,
            voucher_no=event.voucher.voucher_no,
            files=[f.model_dump() for f in event.files],
            review_required=event.review_required,
            check_report=[r.model_dump() for r in event.check_report],
        )
        await self._publisher.publish(
            new_event(
                event,
                source=self._source,
                subject=str(submission_id),
                correlation_id=str(submission_id),
                actor=user,
            )
        )
        log.info(
            "document ingested",
            document_id=str(submission_id),
            review_required=event.review_required,
        )
        return IngestResult(True, event)

    async def _reject(
        self,
        submission_id: uuid.UUID,
        voucher: UploadedFile,
        problems: list[Problem],
        report: list[CheckResult],
        user: str,
    ) -> IngestResult:
        at = utc_now()
        rejected = DocumentRejected(
            submission_id=submission_id,
            filename=voucher.filename,
            problems=tuple(problems),
            submitted_by=user,
            submitted_at=at,
            check_report=tuple(report),
        )
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
        return IngestResult(False, rejected)


class UnknownProfile(Exception):
    pass


@dataclass(frozen=True)
class JournalResult:
    voucher_no: str
    rows: tuple[int, ...]
    result: IngestResult


class JournalService:
    """Cuts an ERP voucher journal into vouchers and takes each in like a single upload."""

    def __init__(
        self, ingest: IngestService, store: ObjectStore, profiles: dict[str, JournalProfile]
    ):
        self._ingest = ingest
        self._store = store
        self.profiles = profiles

    async def ingest_journal(
        self, journal: UploadedFile, *, profile: str, fonds_code: str, company_name: str, user: str
    ) -> list[JournalResult]:
        is_xml = journal.filename.lower().endswith(".xml") or journal.data.lstrip().startswith(b"<")
        if is_xml:  # the XML export carries its own fonds and names: no profile needed
            vouchers = read_xml_journal(journal.data)
        elif profile not in self.profiles:
            raise UnknownProfile(f"no journal profile {profile!r}; known: {sorted(self.profiles)}")
        else:  # ExportError for an unreadable file: nothing was taken
            vouchers = read_journal(
                journal.data,
                self.profiles[profile],
                fonds_code=fonds_code,
                company_name=company_name,
            )
        d = digest(journal.data)
        media_type = "application/xml" if is_xml else XLSX if is_xlsx(journal.data) else "text/csv"
        if not await self._store.exists(d.content_key):
            await self._store.put(d.content_key, journal.data, media_type)
        source = StoredFile(
            role="source_export",
            filename=journal.filename,
            media_type=media_type,
            size=len(journal.data),
            bucket=self._store.bucket,
            object_key=d.content_key,
            sha256=d.sha256,
            sm3=d.sm3,
        )
        results = []
        for v in vouchers:
            name = f"{journal.filename}#{v.voucher_no}.json"
            if v.document is None:
                problems = [Problem(field=f, message=m) for _, f, m in v.problems]
                rejected = await self._ingest.reject_unreadable(name, problems, user)
                results.append(JournalResult(v.voucher_no, v.rows, rejected))
                continue
            voucher = UploadedFile("voucher", name, "application/json", v.document)
            result = await self._ingest.ingest(voucher, [], user=user, source_export=source)
            results.append(JournalResult(v.voucher_no, v.rows, result))
        return results


class PackageService:
    """Takes an archive package in: checked whole first, then each voucher like a single upload."""

    def __init__(self, ingest: IngestService) -> None:
        self._ingest = ingest

    async def ingest_package(
        self, package: UploadedFile, *, user: str
    ) -> tuple[OpenedPackage, list[JournalResult]]:
        opened = open_package(package.data)
        if not opened.accepted:
            return opened, []
        results = []
        for n, v in enumerate(opened.vouchers, 1):
            name, data = v.voucher
            voucher = UploadedFile("voucher", name, "application/json", data)
            attachments = [
                UploadedFile("attachment", a, media_type_of(a, None), d) for a, d in v.attachments
            ]
            results.append(
                JournalResult(
                    name, (n,), await self._ingest.ingest(voucher, attachments, user=user)
                )
            )
        return opened, results
