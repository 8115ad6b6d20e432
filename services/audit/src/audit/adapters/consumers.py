"""One subscriber over every domain topic of the registry: audit records all of them."""

from __future__ import annotations

from audit.service import AuditService
from contracts.envelope import AnyEnvelope
from contracts.topics import ALL_TOPICS
from servicekit.kafka import subscriber_options
from servicekit.service import Runtime


def register_consumers(rt: Runtime, service: AuditService) -> None:
    topics = [t.name(rt.platform.namespace) for t in ALL_TOPICS]

    @rt.broker.subscriber(*topics, **subscriber_options(rt.platform, rt.service))
    async def on_any_event(event: AnyEnvelope) -> None:
        await service.record(event)
