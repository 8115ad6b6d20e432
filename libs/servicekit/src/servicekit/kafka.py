"""Kafka plumbing: the broker every service uses, the event publisher, the JSON decoder.

Producers use ``acks=all`` with idempotence; consumers commit only after a message was handled
(or dead-lettered), so a crash means redelivery, never loss.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from faststream import AckPolicy, BaseMiddleware
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.message import StreamMessage
from faststream.security import BaseSecurity, SASLScram256, SASLScram512
from opentelemetry.sdk.trace import TracerProvider

from contracts.envelope import CONTENT_TYPE, Envelope, EventData
from contracts.topics import Topic, topic_for, topics
from servicekit.deadletter import DeadLetters, Refused
from servicekit.settings import PlatformSettings
from servicekit.tracing import current_trace_context

log = structlog.get_logger()


def decode_json(msg: StreamMessage[Any]) -> Any:
    """Envelopes are JSON whatever the content-type says (cloudevents+json is not plain json)."""
    return json.loads(msg.body)


class LogContextMiddleware(BaseMiddleware):
    """Every log line written while a message is handled names its topic and correlation id."""

    async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
        with structlog.contextvars.bound_contextvars(
            correlation_id=msg.correlation_id, topic=getattr(msg.raw_message, "topic", None)
        ):
            return await call_next(msg)


class ProducerCheck:
    """Refuses (dead-letters, with the reason) an event whose CloudEvents ``source`` is not the
    registered producer of the topic it came on."""

    def __init__(self, platform: PlatformSettings) -> None:
        known = topics(platform.oa_connections)
        self._topics: dict[str, Topic] = {t.name(platform.namespace): t for t in known}

    def middleware(self, msg: Any, /, *, context: Any) -> BaseMiddleware:
        return _ProducerCheckMiddleware(msg, context=context, topics=self._topics)

    def check(self, topic_name: str, body: object) -> None:
        """Raises Refused if ``body`` (an envelope, decoded) names a source that is not the
        producer of ``topic_name`` (a batch consumer checks each of its records with it)."""
        refusal = _refusal(self._topics.get(topic_name), topic_name, body)
        if refusal is not None:
            raise refusal


def _refusal(topic: Topic | None, name: str, body: object) -> Refused | None:
    source = body.get("source") if isinstance(body, dict) else None
    if topic is not None and isinstance(source, str) and not topic.produced_by(source):
        return Refused(f"source {source!r} is not the producer of {name} ({topic.owner}): dropped")
    return None


class _ProducerCheckMiddleware(BaseMiddleware):
    def __init__(self, msg: Any, /, *, context: Any, topics: dict[str, Topic]) -> None:
        super().__init__(msg, context=context)
        self._topics = topics

    async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
        name = getattr(msg.raw_message, "topic", None)  # a batch's are checked by its handler
        if isinstance(name, str):
            body = await msg.decode()  # cached: the handler's decoding reuses it
            if (refusal := _refusal(self._topics.get(name), name, body)) is not None:
                raise refusal
        return await call_next(msg)


def client_options(platform: PlatformSettings) -> dict[str, Any]:
    """How an aiokafka client reaches the broker: TLS and SCRAM unless PLAINTEXT is configured.
    A missing credential fails here, naming the setting, not later as an opaque refusal."""
    if platform.kafka_security_protocol == "PLAINTEXT":
        return {}
    if not (platform.kafka_username and platform.kafka_password):
        raise ValueError(
            "Kafka is SASL_SSL: set AAP_KAFKA_USERNAME and AAP_KAFKA_PASSWORD (this process's "
            "principal), or AAP_KAFKA_SECURITY_PROTOCOL=PLAINTEXT for a broker without security"
        )
    return {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": platform.kafka_sasl_mechanism,
        "sasl_plain_username": platform.kafka_username,
        "sasl_plain_password": platform.kafka_password.get_secret_value(),
        "ssl_context": ssl.create_default_context(cafile=platform.kafka_ca_file),
    }


def broker_security(platform: PlatformSettings) -> BaseSecurity | None:
    """The same, as FastStream's security object for the service's broker."""
    options = client_options(platform)
    if not options:
        return None
    scram = SASLScram512 if platform.kafka_sasl_mechanism == "SCRAM-SHA-512" else SASLScram256
    return scram(
        options["sasl_plain_username"],
        options["sasl_plain_password"],
        ssl_context=options["ssl_context"],
    )


def dead_letters_of(platform: PlatformSettings, service: str) -> DeadLetters:
    return DeadLetters(
        attempts=platform.consumer_attempts,
        backoff_seconds=platform.consumer_backoff_seconds,
        wait_cap_seconds=platform.consumer_wait_cap_seconds,
        group=subscriber_group(platform, service),
        consumer=service,
    )


def make_broker(
    platform: PlatformSettings,
    tracer_provider: TracerProvider,
    service: str,
    dead_letters: DeadLetters,
) -> KafkaBroker:
    broker = KafkaBroker(
        platform.kafka_bootstrap,
        security=broker_security(platform),
        client_id=f"aap-{service}",
        acks="all",
        enable_idempotence=True,
        linger_ms=platform.kafka_linger_ms,
        allow_auto_create_topics=False,
        decoder=decode_json,
        # Outermost first: the span and the log context cover retries and dead-lettering too.
        middlewares=[
            KafkaTelemetryMiddleware(tracer_provider=tracer_provider),
            LogContextMiddleware,
            dead_letters.middleware,
            ProducerCheck(platform).middleware,  # inside: a refusal is dead-lettered
        ],
        logger=logging.getLogger("faststream.aap"),
        log_level=logging.DEBUG,  # one line per message is too much at INFO
    )
    dead_letters.bind(broker)
    return broker


def subscriber_group(platform: PlatformSettings, service: str) -> str:
    """The consumer group of a service's subscribers."""
    return f"{platform.namespace}.{service}"


def subscriber_options(platform: PlatformSettings, service: str) -> dict[str, Any]:
    """Options of every consumer: its service's group, commit after handling, from the start,
    and time enough to wait out a dependency that is down without leaving its group."""
    return {
        "group_id": subscriber_group(platform, service),
        "ack_policy": AckPolicy.NACK_ON_ERROR,
        "auto_offset_reset": "earliest",
        "max_poll_interval_ms": int(platform.consumer_max_poll_interval_seconds * 1000),
        "heartbeat_interval_ms": int(platform.consumer_heartbeat_seconds * 1000),
    }


class EventPublisher:
    """Sends envelopes to the topic the registry names, keyed by subject: the outbox's relay
    (``servicekit.outbox``), which use cases publish through.

    A service declares the events it publishes, each on its registry topic, and the ``routed``
    topics whose event goes where the caller says (an OA connection's); each becomes a FastStream
    publisher, so the service's AsyncAPI document lists what it sends as well as what it
    receives.
    """

    def __init__(
        self,
        broker: KafkaBroker,
        namespace: str,
        publishes: Sequence[type[EventData]],
        routed: Sequence[Topic] = (),
    ) -> None:
        def publisher(topic: Topic, event: type[EventData]) -> Any:
            return broker.publisher(
                topic.name(namespace),
                title=f"{topic.name(namespace)}:{event.event_type}",
                description=(event.__doc__ or "").strip(),
                schema=Envelope[event],  # type: ignore[valid-type]
            )

        self._publishers: dict[type[EventData], Any] = {
            event: publisher(topic_for(event), event) for event in publishes
        }
        self._routed: dict[str, Any] = {
            t.base_name: publisher(t, event) for t in routed for event in t.events
        }
        self._by_topic: dict[str, Any] = {
            p.topic: p for p in (*self._publishers.values(), *self._routed.values())
        }

    def topic_of(self, event: Envelope[Any], to: Topic | None = None) -> str:
        """The topic ``event`` goes on: its registry topic, or ``to``, one of the routed topics.
        ValueError for an event or topic the service did not declare."""
        if to is not None:
            if to.base_name not in self._routed:
                raise ValueError(f"{to.base_name} is not among this service's topics")
            return str(self._routed[to.base_name].topic)
        publisher = self._publishers.get(type(event.data))
        if publisher is None:
            raise ValueError(f"{type(event.data).__name__} is not among this service's events")
        return str(publisher.topic)

    async def send(self, messages: Sequence[Message]) -> None:
        """Send each message in order, then wait until the broker has taken every one: the
        producer keeps a partition's messages in the order they were given, and retries them
        without duplicates (idempotence)."""
        taken = [
            await self._by_topic[m.topic].publish(
                m.body,
                key=m.key,
                headers={"content-type": CONTENT_TYPE},
                correlation_id=m.correlation_id,
                no_confirm=True,
            )
            for m in messages
        ]
        await asyncio.gather(*taken)


@dataclass(frozen=True)
class Message:
    """An event as it goes to Kafka: its topic, key (the subject) and body (the envelope)."""

    topic: str
    key: bytes
    body: bytes
    correlation_id: str | None

    @classmethod
    def of(cls, event: Envelope[Any], topic: str) -> Message:
        """The message of ``event``, carrying the trace context it is published in."""
        trace_ctx = current_trace_context()
        if trace_ctx and not event.traceparent:
            event = event.model_copy(
                update={
                    "traceparent": trace_ctx.get("traceparent"),
                    "tracestate": trace_ctx.get("tracestate"),
                }
            )
        body = event.model_dump_json().encode()
        return cls(topic, event.subject.encode(), body, event.correlationid)
