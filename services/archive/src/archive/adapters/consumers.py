"""Kafka subscribers: one per event, each a single call into the service."""

from __future__ import annotations

from archive.service import ArchiveService
from contracts.events import DocumentIngestedEvent
from contracts.topics import DOCUMENTS_INGESTED
from servicekit.kafka import subscriber_options
from servicekit.service import Runtime


def register_consumers(rt: Runtime, service: ArchiveService) -> None:
    options = subscriber_options(rt.platform, rt.service)

    # One consumer per partition: documents are independent, and order within a partition
    # (one document's events) is kept because each consumer handles its partitions in turn.
    @rt.broker.subscriber(
        DOCUMENTS_INGESTED.name(rt.platform.namespace),
        max_workers=DOCUMENTS_INGESTED.partitions,
        **options,
    )
    async def on_document_ingested(event: DocumentIngestedEvent) -> None:
        await service.on_document_ingested(event)
