"""Kafka subscribers: one per event, each a single call into the service."""

from __future__ import annotations

from typing import Any

from archive.approval_records import ApprovalRecords
from archive.service import ArchiveService
from contracts.envelope import upcast
from contracts.events import (
    ApprovalDecided,
    ApprovalDecidedEvent,
    ApprovalDecidedV1Event,
    DocumentIngested,
    DocumentIngestedEvent,
    DocumentIngestedV1Event,
    OaApprovalCompletedEvent,
    RecordArchivedEvent,
    RecordReviewedEvent,
)
from contracts.topics import (
    APPROVALS_DECIDED,
    APPROVALS_DECIDED_V1,
    DOCUMENTS_INGESTED,
    DOCUMENTS_INGESTED_V1,
    OA_APPROVALS_COMPLETED,
    RECORDS_ARCHIVED,
    REVIEWS,
)
from servicekit.kafka import subscriber_options
from servicekit.service import Runtime


def register_consumers(
    rt: Runtime, service: ArchiveService, approval_records: ApprovalRecords, instance: str
) -> None:
    options = subscriber_options(rt.platform, rt.service)
    ns = rt.platform.namespace

    # One consumer per partition: documents are independent, and order within a partition
    # (one document's events) is kept because each consumer handles its partitions in turn.
    @rt.broker.subscriber(
        DOCUMENTS_INGESTED.name(ns), max_workers=DOCUMENTS_INGESTED.partitions, **options
    )
    async def on_document_ingested(event: DocumentIngestedEvent) -> None:
        await service.on_document_ingested(event)

    # Documents ingested before version 2, read as version 2.
    @rt.broker.subscriber(DOCUMENTS_INGESTED_V1.name(ns), **options)
    async def on_document_ingested_v1(event: DocumentIngestedV1Event) -> None:
        await service.on_document_ingested(upcast(event, DocumentIngested.from_v1(event.data)))

    # Every archive process keeps its own search index, so each one reads what changes it in a
    # consumer group of its own; what came before it started, it read from the database.
    index_options: dict[str, Any] = options | {
        "group_id": f"{ns}.archive.search-index.{instance}",
        "auto_offset_reset": "latest",
    }

    @rt.broker.subscriber(RECORDS_ARCHIVED.name(ns), **index_options)
    async def on_record_archived(event: RecordArchivedEvent) -> None:
        await service.on_record_archived(event.data)

    @rt.broker.subscriber(REVIEWS.name(ns), **index_options)
    async def on_record_reviewed(event: RecordReviewedEvent) -> None:
        await service.on_record_reviewed(event.data)

    @rt.broker.subscriber(APPROVALS_DECIDED.name(ns), **options)
    async def on_approval_decided(event: ApprovalDecidedEvent) -> None:
        await service.on_approval_decided(event)

    # Decisions published before version 2, read as version 2.
    @rt.broker.subscriber(APPROVALS_DECIDED_V1.name(ns), **options)
    async def on_approval_decided_v1(event: ApprovalDecidedV1Event) -> None:
        await service.on_approval_decided(upcast(event, ApprovalDecided.from_v1(event.data)))

    # Expense and payment approvals finished in an OA: each archived as a record of its own.
    @rt.broker.subscriber(OA_APPROVALS_COMPLETED.name(ns), **options)
    async def on_oa_approval_completed(event: OaApprovalCompletedEvent) -> None:
        await approval_records.on_approval_completed(event)
