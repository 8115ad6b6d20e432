"""Ingest's use case: take an upload, store its originals, say what was accepted or rejected."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import structlog

from contracts.envelope import new_event
from contracts.events import DocumentIngested, DocumentRejected, Problem
from contracts.types import utc_now
from ingest.adapters.submissions import Submissions
from ingest.domain.intake import ExportError, UploadedFile, assess, ingested_event
from servicekit.kafka import EventPublisher
from servicekit.s3 import ObjectStore

log = structlog.get_logger()


@dataclass(frozen=True)
class IngestResult:
    accepted: bool
    event: DocumentIngested | DocumentRejected


class IngestService:
    def __init__(
        self, store: ObjectStore, submissions: Submissions, publisher: EventPublisher, source: str
    ) -> None:
        self._store = store
        self._submissions = submissions
        self._publisher = publisher
        self._source = source

    async def ingest(
        self, voucher: UploadedFile, attachments: list[UploadedFile], *, user: str
    ) -> IngestResult:
        submission_id = uuid.uuid4()
        at = utc_now()
        correlation_id = str(submission_id)
        structlog.contextvars.bind_contextvars(correlation_id=correlation_id)
        try:
            accepted = assess(voucher, attachments)
        except ExportError as error:
            rejected = DocumentRejected(
                submission_id=submission_id,
                filename=voucher.filename,
                problems=tuple(Problem(field=f, message=m) for f, m in error.problems),
                submitted_by=user,
                submitted_at=at,
            )
            await self._submissions.record(
                submission_id,
                status="rejected",
                at=at,
                by=user,
                problems=[p.model_dump() for p in rejected.problems],
            )
            await self._publisher.publish(
                new_event(
                    rejected,
                    source=self._source,
                    subject=str(submission_id),
                    correlation_id=correlation_id,
                    actor=user,
                )
            )
            log.info("upload rejected", submission_id=str(submission_id), problems=error.problems)
            return IngestResult(False, rejected)

        # Originals first: an event must never point at bytes that are not stored.
        for original in accepted.originals:
            key = original.digests.content_key
            if not await self._store.exists(key):
                await self._store.put(key, original.file.data, original.file.media_type)
        event = ingested_event(
            accepted, document_id=submission_id, bucket=self._store.bucket, submitted_by=user, at=at
        )
        await self._submissions.record(
            submission_id,
            status="accepted",
            at=at,
            by=user,
            voucher_no=event.voucher.voucher_no,
            files=[f.model_dump() for f in event.files],
        )
        await self._publisher.publish(
            new_event(
                event,
                source=self._source,
                subject=str(submission_id),
                correlation_id=correlation_id,
                actor=user,
            )
        )
        log.info(
            "document ingested", document_id=str(submission_id), voucher_no=event.voucher.voucher_no
        )
        return IngestResult(True, event)
