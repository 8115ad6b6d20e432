"""Kafka subscribers: one per event, each a single call into the service."""

from __future__ import annotations

from contracts.envelope import upcast
from contracts.events import (
    ApprovalDecided,
    ApprovalDecidedEvent,
    ApprovalDecidedV1Event,
    RecordArchivedEvent,
)
from contracts.topics import APPROVALS_DECIDED, APPROVALS_DECIDED_V1, RECORDS_ARCHIVED
from permission.service import PermissionService
from servicekit.kafka import subscriber_options
from servicekit.service import Runtime


def register_consumers(rt: Runtime, service: PermissionService) -> None:
    options = subscriber_options(rt.platform, rt.service)
    ns = rt.platform.namespace

    @rt.broker.subscriber(APPROVALS_DECIDED.name(ns), **options)
    async def on_approval_decided(event: ApprovalDecidedEvent) -> None:
        await service.on_approval_decided(event)

    # Decisions published before version 2, read as version 2.
    @rt.broker.subscriber(APPROVALS_DECIDED_V1.name(ns), **options)
    async def on_approval_decided_v1(event: ApprovalDecidedV1Event) -> None:
        await service.on_approval_decided(upcast(event, ApprovalDecided.from_v1(event.data)))

    @rt.broker.subscriber(RECORDS_ARCHIVED.name(ns), **options)
    async def on_record_archived(event: RecordArchivedEvent) -> None:
        await service.on_record_archived(event)
