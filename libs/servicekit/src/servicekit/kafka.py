"""Kafka plumbing: the broker every service uses, the event publisher, the JSON decoder.

Producers use ``acks=all`` with idempotence; consumers commit only after a message was handled
(or dead-lettered), so a crash means redelivery, never loss.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import structlog
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.message import StreamMessage
from opentelemetry.sdk.trace import TracerProvider

from contracts.envelope import CONTENT_TYPE, Envelope, EventData
from contracts.topics import Topic, topic_for
from servicekit.deadletter import DeadLetters
from servicekit.settings import PlatformSettings
from servicekit.tracing import current_trace_context

log = structlog.get_logger()


def decode_json(msg: StreamMessage[Any]) -> Any:
    """Envelopes are JSON whatever the content-type says (cloudevents+json is not plain json)."""
    return json.loads(msg.body)


def make_broker(
    platform: PlatformSettings, service: str, tracer_provider: TracerProvider
) -> tuple[KafkaBroker, DeadLetters]:
    dead_letters = DeadLetters(attempts=platform.consumer_attempts)
    broker = KafkaBroker(
        platform.kafka_bootstrap,
        client_id=f"aap-{service}",
        acks="all",
        enable_idempotence=True,
        allow_auto_create_topics=False,
        decoder=decode_json,
        middlewares=[
            dead_letters.middleware,
            KafkaTelemetryMiddleware(tracer_provider=tracer_provider),
        ],
        logger=logging.getLogger("faststream.aap"),
        log_level=logging.DEBUG,  # one line per message is too much at INFO
    )
    dead_letters.bind(broker)
    return broker, dead_letters


def subscriber_options(platform: PlatformSettings, service: str) -> dict[str, Any]:
    """Options of every consumer: its service's group, commit after handling, from the start."""
    return {
        "group_id": f"{platform.namespace}.{service}",
        "ack_policy": AckPolicy.NACK_ON_ERROR,
        "auto_offset_reset": "earliest",
    }


class EventPublisher:
    """Publishes envelopes to the topic the registry names, keyed by subject."""

    def __init__(self, broker: KafkaBroker, namespace: str) -> None:
        self._broker = broker
        self._namespace = namespace

    def topic(self, topic: Topic) -> str:
        return topic.name(self._namespace)

    async def publish(self, event: Envelope[Any]) -> None:
        assert isinstance(event.data, EventData), "publish envelopes of contract events only"
        trace_ctx = current_trace_context()
        if trace_ctx and not event.traceparent:
            event = event.model_copy(
                update={
                    "traceparent": trace_ctx.get("traceparent"),
                    "tracestate": trace_ctx.get("tracestate"),
                }
            )
        await self._broker.publish(
            event.model_dump_json().encode(),
            topic=topic_for(type(event.data)).name(self._namespace),
            key=event.subject.encode(),
            headers={"content-type": CONTENT_TYPE},
            correlation_id=event.correlationid,
        )
        log.info(
            "event published", event_type=event.type, event_id=str(event.id), subject=event.subject
        )
