"""One subscriber over every domain topic of the registry, each OA connection's included:
audit records all of them, and where it read each (topic, partition, offset)."""

from __future__ import annotations

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaMessage

from audit.checkpoints import Checkpoints
from contracts.envelope import AnyEnvelope
from contracts.topics import Topic, topics
from servicekit.kafka import subscriber_options
from servicekit.service import Runtime


def audited_topics(rt: Runtime) -> list[Topic]:
    return [t for t in topics(rt.platform.oa_connections) if rt.service in t.consumers]


def register_consumers(rt: Runtime, log: Checkpoints) -> None:
    names = [t.name(rt.platform.namespace) for t in audited_topics(rt)]

    @rt.broker.subscriber(*names, **subscriber_options(rt.platform, rt.service))
    async def on_any_event(event: AnyEnvelope, msg: KafkaMessage) -> None:
        record = msg.raw_message
        assert isinstance(record, ConsumerRecord)  # one message at a time, not a batch
        await log.record(event, (record.topic, record.partition, record.offset))
