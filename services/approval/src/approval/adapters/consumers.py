"""Kafka subscribers: one per event, each a single call into the service."""

from __future__ import annotations

from approval.service import ApprovalService
from contracts.events import OaDecisionMadeEvent
from contracts.topics import OA_DECISIONS
from servicekit.kafka import subscriber_options
from servicekit.service import Runtime


def register_consumers(rt: Runtime, service: ApprovalService) -> None:
    options = subscriber_options(rt.platform, rt.service)

    @rt.broker.subscriber(OA_DECISIONS.name(rt.platform.namespace), **options)
    async def on_oa_decision(event: OaDecisionMadeEvent) -> None:
        await service.on_oa_decision(event)
