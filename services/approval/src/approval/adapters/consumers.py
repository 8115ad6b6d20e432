"""Kafka subscribers: one per OA connection's decisions topic, each a single call into the
service; what a rule refuses is dead-lettered with the reason, at once."""

from __future__ import annotations

from approval.domain.borrowing import (
    DecisionConflict,
    NotRoutedHere,
    SelfApproval,
    UnmappedApprover,
)
from approval.ports import RecordTitles
from approval.service import ApprovalService
from contracts.envelope import upcast
from contracts.events import (
    OaDecisionMade,
    OaDecisionMadeEvent,
    OaDecisionMadeV1Event,
    RecordArchivedEvent,
)
from contracts.topics import RECORDS_ARCHIVED, OaConnection
from servicekit.deadletter import Refused
from servicekit.kafka import subscriber_options
from servicekit.service import Runtime

REFUSED = (NotRoutedHere, SelfApproval, DecisionConflict, UnmappedApprover)


def register_consumers(rt: Runtime, service: ApprovalService, titles: RecordTitles) -> None:
    for name in rt.platform.oa_connections:
        _decisions_of(rt, service, OaConnection(name))

    # How the OAs' forms name the records a request asks for (档号 and 摘要).
    options = subscriber_options(rt.platform, rt.service)

    @rt.broker.subscriber(RECORDS_ARCHIVED.name(rt.platform.namespace), **options)
    async def on_record_archived(event: RecordArchivedEvent) -> None:
        await titles.learn(event.data)


def _decisions_of(rt: Runtime, service: ApprovalService, connection: OaConnection) -> None:
    options = subscriber_options(rt.platform, rt.service)

    @rt.broker.subscriber(connection.decisions.name(rt.platform.namespace), **options)
    async def on_oa_decision(event: OaDecisionMadeEvent) -> None:
        try:
            await service.on_oa_decision(event, connection.name)
        except REFUSED as refused:
            raise Refused(str(refused)) from refused

    # Decisions of OA systems that still publish version 1, read as version 2.
    @rt.broker.subscriber(connection.decisions_v1.name(rt.platform.namespace), **options)
    async def on_oa_decision_v1(event: OaDecisionMadeV1Event) -> None:
        try:
            await service.on_oa_decision(
                upcast(event, OaDecisionMade.from_v1(event.data)), connection.name
            )
        except REFUSED as refused:
            raise Refused(str(refused)) from refused
