"""Archive's use cases: accession of ingested documents, reading records and originals."""

from __future__ import annotations

import uuid

import structlog

from archive.adapters.permission_client import PermissionClient
from archive.adapters.records import Records
from archive.domain.archive_code import ArchiveCodeRule
from archive.domain.record import archive, lock_until, original_key, placement
from contracts.envelope import derived_event_id, new_event
from contracts.events import DocumentIngestedEvent, RecordArchived
from contracts.types import utc_now
from servicekit.idempotency import ProcessedEvents
from servicekit.kafka import EventPublisher
from servicekit.s3 import ObjectStore

log = structlog.get_logger()


class AccessDenied(Exception):
    pass


class ArchiveService:
    def __init__(
        self,
        records: Records,
        store: ObjectStore,
        processed: ProcessedEvents,
        publisher: EventPublisher,
        permissions: PermissionClient,
        rule: ArchiveCodeRule,
        source: str,
    ) -> None:
        self._records = records
        self._store = store
        self._processed = processed
        self._publisher = publisher
        self._permissions = permissions
        self._rule = rule
        self._source = source

    async def on_document_ingested(self, event: DocumentIngestedEvent) -> None:
        await self._processed.handle_once(event, lambda: self._accession(event))

    async def _accession(self, event: DocumentIngestedEvent) -> None:
        doc = event.data
        record = await self._records.get(doc.document_id)
        if record is None:
            where = placement(doc, self._rule)
            seq = await self._records.next_sequence(where.scope)
            record = archive(doc, where, seq, self._rule, bucket=self._store.bucket, at=utc_now())
            until = lock_until(record.retention_until)
            for f in doc.files:  # copy under lock before the record exists: no record without bytes
                await self._store.copy_locked_from(
                    f.bucket, f.object_key, original_key(record.record_id, f), until=until
                )
            record = await self._records.add(record)
            log.info(
                "record archived", record_id=str(record.record_id), archive_code=record.archive_code
            )
        # One record, one RecordArchived id: publishing again after a crash or a redelivery
        # (even one under a new event id) repeats the same fact, which consumers skip.
        await self._publisher.publish(
            new_event(
                record,
                source=self._source,
                subject=str(record.record_id),
                correlation_id=event.correlationid,
                cause=event,
                actor=event.actor,
                event_id=derived_event_id(record.record_id, RecordArchived),
            )
        )

    async def get(self, record_id: uuid.UUID) -> RecordArchived | None:
        return await self._records.get(record_id)

    async def page(
        self,
        *,
        fonds_code: str | None,
        fiscal_year: int | None,
        invoice_number: str | None = None,
        review_required: bool | None = None,
        limit: int,
        offset: int,
    ) -> tuple[int, list[RecordArchived]]:
        filters: dict[str, object] = {}
        if invoice_number:
            filters["invoice_numbers"] = invoice_number
        if review_required is not None:
            filters["review_required"] = review_required
        if fonds_code:
            filters["fonds_code"] = fonds_code
        if fiscal_year:
            filters["fiscal_year"] = fiscal_year
        return await self._records.page(filters, limit, offset)

    async def original(
        self, record_id: uuid.UUID, sha256: str, user: str
    ) -> tuple[str, str, bytes]:
        """(filename, media type, bytes) of one original, if the permission service allows."""
        record = await self._records.get(record_id)
        f = next((f for f in record.originals if f.sha256 == sha256), None) if record else None
        if record is None or f is None:
            raise KeyError(f"record {record_id} has no original {sha256}")
        decision = await self._permissions.check(user, "download", f"record:{record_id}")
        if not decision.allowed:
            raise AccessDenied(decision.reason)
        return f.filename, f.media_type, await self._store.get(f.object_key)
