"""Kafka subscribers: one per event, each a single call into the service."""

from __future__ import annotations

from archive.service import ArchiveService
from contracts.events import ApprovalDecidedEvent, DocumentIngestedEvent
from contracts.topics import APPROVALS_DECIDED, DOCUMENTS_INGESTED
from servicekit.kafka import subscriber_options
from servicekit.service import Runtime


def register_consumers(rt: Runtime, service: ArchiveService) -> None:
    options = subscriber_options(rt.platform, rt.service)
    ns = rt.platform.namespace

    # One consumer per partition: documents are independent, and order within a partition
    # (one document's events) is kept because each consumer handles its partitions in turn.
    @rt.broker.subscriber(
        DOCUMENTS_INGESTED.name(ns), max_workers=DOCUMENTS_INGESTED.partitions, **options
    )
    async def on_document_ingested(event: DocumentIngestedEvent) -> None:
        await service.on_document_ingested(event)

    @rt.broker.subscriber(APPROVALS_DECIDED.name(ns), **options)
    async def on_approval_decided(event: ApprovalDecidedEvent) -> None:
        await service.on_approval_decided(event)
