"""Publish an event as any producer outside the platform would, e.g. an OA system: the Kafka
binding of contracts.envelope done with a plain Kafka client (aiokafka)."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata

from contracts.envelope import CONTENT_TYPE, Envelope, EventData
from contracts.topics import Topic, topic_for
from devkit.kafka_access import security


class EventSender:
    """``options``: the principal to send as (``servicekit.kafka.client_options``); this
    process's own (AAP_KAFKA_*) unless given."""

    def __init__(
        self, bootstrap: str, namespace: str, options: dict[str, Any] | None = None
    ) -> None:
        self._namespace = namespace
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            enable_idempotence=True,
            **(security() if options is None else options),
        )

    async def __aenter__(self) -> EventSender:
        await self._producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._producer.stop()

    async def send(self, event: Envelope[Any], to: Topic | None = None) -> RecordMetadata:
        """On the event's topic, or on ``to`` (an OA connection's); where it was written."""
        assert isinstance(event.data, EventData)
        return await self.send_raw(
            (to or topic_for(type(event.data))).name(self._namespace),
            event.model_dump_json().encode(),
            key=event.subject.encode(),
        )

    async def send_raw(
        self,
        topic: str,
        value: bytes,
        *,
        key: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> RecordMetadata:
        """Anything at all, e.g. a poison message or a forged letter for a dead-letter test."""
        sent: RecordMetadata = await self._producer.send_and_wait(
            topic,
            value,
            key=key,
            headers=[
                (k, v.encode())
                for k, v in ({"content-type": CONTENT_TYPE} | (headers or {})).items()
            ],
        )
        return sent
