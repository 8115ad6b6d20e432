"""One subscriber over every domain topic of the registry, each OA connection's included:
audit records all of them, and where it read each (topic, partition, offset).

It takes what the broker has in batches, and the log appends a batch in one write: the log's
throughput is the database's per write, not per entry. A batch is read raw and each record
checked on its own, so one poison message is set aside alone and the rest of its batch is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaMessage
from faststream.message import StreamMessage

from audit.checkpoints import Checkpoints
from audit.domain.chain import Position
from contracts.envelope import AnyEnvelope
from contracts.topics import Topic, topics
from servicekit.deadletter import POISON
from servicekit.kafka import ProducerCheck, subscriber_options
from servicekit.service import Runtime

BATCH = 500  # records at most per batch: one write of entries, one of tree nodes


def audited_topics(rt: Runtime) -> list[Topic]:
    return [t for t in topics(rt.platform.oa_connections) if rt.service in t.consumers]


def raw_bodies(msg: StreamMessage[Any]) -> list[bytes]:
    """A batch's bodies as they came: each is checked on its own in the handler."""
    return list(msg.body)


def register_consumers(rt: Runtime, log: Checkpoints) -> None:
    names = [t.name(rt.platform.namespace) for t in audited_topics(rt)]
    check = ProducerCheck(rt.platform)

    @rt.broker.subscriber(
        *names,
        batch=True,
        max_records=BATCH,
        decoder=raw_bodies,
        **subscriber_options(rt.platform, rt.service),
    )
    async def on_events(bodies: list[bytes], msg: KafkaMessage) -> None:
        await take(msg.raw_message)  # a batch: a tuple of records

    async def take(records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        events: list[tuple[AnyEnvelope, Position | None]] = []
        for record in records:
            try:
                event = AnyEnvelope.model_validate_json(record.value or b"")
                check.check(record.topic, {"source": event.source})
            except POISON as error:
                await rt.dead_letters.send_record(record, error, 1)
                continue
            events.append((event, (record.topic, record.partition, record.offset)))
        await log.record_all(events)

    async def take_one(record: ConsumerRecord[bytes, bytes]) -> None:
        await take((record,))

    # A dead letter re-driven is one record, not a batch: it is handed over here.
    rt.record_handlers.update({name: take_one for name in names})
