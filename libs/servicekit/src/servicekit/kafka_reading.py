"""Reading topics back outside a consumer group: a window of each partition, and a consumer
group's dead letters (the readiness detail every service shows, its re-drive, and the audit
log's verify)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from contracts.topics import Topic
from servicekit.kafka import client_options, subscriber_group
from servicekit.settings import PlatformSettings

Window = dict[TopicPartition, tuple[int, int]]  # partition → [start, end) offsets


@asynccontextmanager
async def reader(
    platform: PlatformSettings, group: str | None = None
) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer of assigned partitions that commits only when told (in ``group``, if given,
    to remember how far it read); an offset older than the topic's oldest reads from the
    oldest."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=platform.kafka_bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **client_options(platform),
    )
    try:
        await consumer.start()
    except BaseException:
        await consumer.stop()  # a start that failed (Kafka down) leaves no client open behind
        raise
    # One turn of the loop before anything else: aiokafka's consumer without a group starts a
    # task that its stop() awaits, and a task cancelled before it first ran raises there.
    await asyncio.sleep(0)
    try:
        yield consumer
    finally:
        await consumer.stop()


async def read_window(
    consumer: AIOKafkaConsumer, window: Window, timeout: float = 60
) -> list[ConsumerRecord[bytes, bytes]]:
    """The records of each partition from its start offset up to (not including) its end."""
    window = {tp: w for tp, w in window.items() if w[0] < w[1]}
    if not window:
        return []
    consumer.assign(list(window))
    for tp, (start, _) in window.items():
        consumer.seek(tp, start)
    pending, records = set(window), list[ConsumerRecord[bytes, bytes]]()
    deadline = time.monotonic() + timeout
    while pending:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(pending)} partitions not read to their end in {timeout} s")
        batch = await consumer.getmany(*pending, timeout_ms=500)
        for tp, got in batch.items():
            records += [r for r in got if r.offset < window[tp][1]]
        for tp in list(pending):
            if await consumer.position(tp) >= window[tp][1]:
                pending.discard(tp)
    return records


@dataclass(frozen=True)
class DeadLetter:
    """A letter on a group's dead-letter topic: where its message was first read, why it was
    set aside, and what it is (read leniently: a poison message may be no event at all)."""

    topic: str  # where the message was read from: the one the dead-letter topic lies beside
    partition: int
    offset: int
    error_type: str
    reason: str = ""
    event_type: str | None = None
    source: str | None = None
    subject: str | None = None


class MalformedLetter(Exception):
    """A record of a dead-letter topic that is no letter of it: skipped, counted, never fatal."""


def letter_of(record: ConsumerRecord[bytes, bytes], topic: str) -> DeadLetter:
    """The letter ``record`` is, read from the dead-letter topic of ``topic``: the original
    topic follows from the dead-letter topic, never from what the letter says of itself (a
    letter that says otherwise is refused); its partition and offset must be numbers."""
    headers = {k: v.decode(errors="replace") for k, v in record.headers or []}
    said = headers.get("x-dlt-original-topic")
    if said is None:
        raise MalformedLetter("names no original topic, partition and offset")
    if said != topic:
        raise MalformedLetter(f"names topic {said!r}, but lies on the dead letters of {topic}")
    try:
        partition = int(headers["x-dlt-original-partition"])
        offset = int(headers["x-dlt-original-offset"])
    except (KeyError, ValueError):
        raise MalformedLetter("names no original partition and offset") from None
    if partition < 0 or offset < 0:
        raise MalformedLetter(f"names partition {partition}, offset {offset}")
    event = _envelope(record.value)
    return DeadLetter(
        topic,
        partition,
        offset,
        headers.get("x-dlt-error-type", ""),
        headers.get("x-dlt-error", ""),
        event.get("type"),
        event.get("source"),
        event.get("subject"),
    )


def _envelope(value: bytes | None) -> dict[str, str | None]:
    """The envelope's type, source and subject as strings, if the value is an event at all."""
    try:
        body = json.loads(value or b"")
    except (ValueError, RecursionError):
        return {}
    if not isinstance(body, dict):
        return {}
    return {k: str(body[k])[:200] for k in ("type", "source", "subject") if k in body}


def dead_letter_partitions(
    platform: PlatformSettings, consumer: str, read: Iterable[Topic]
) -> dict[TopicPartition, str]:
    """The partitions of ``consumer``'s own dead-letter topics of the topics ``read``, each with
    the topic it lies beside (full names)."""
    ns = platform.namespace
    return {
        TopicPartition(t.dead_letter(ns, consumer), p): t.name(ns)
        for t in set(read)
        for p in range(t.partitions)
    }


async def dead_letters(
    platform: PlatformSettings, consumer: str, read: Iterable[Topic]
) -> list[DeadLetter]:
    """The messages ``consumer``'s group ever set aside while reading the topics ``read`` (its
    dead letters, re-driven or not); what is no letter is left out."""
    parts = dead_letter_partitions(platform, consumer, read)
    if not parts:
        return []
    async with reader(platform) as kafka:
        ends = await kafka.end_offsets(list(parts))
        records = await read_window(kafka, {tp: (0, end) for tp, end in ends.items()})
    found = []
    for r in records:
        with contextlib.suppress(MalformedLetter):
            found.append(letter_of(r, parts[TopicPartition(r.topic, r.partition)]))
    return found


def redrive_group(group: str) -> str:
    """The group that remembers how far ``group``'s dead letters were re-driven."""
    return f"{group}.redrive"


async def outstanding_window(consumer: AIOKafkaConsumer, parts: list[TopicPartition]) -> Window:
    """Per dead-letter partition: from the offset the consumer's group committed (how far its
    dead letters were re-driven) to the partition's end."""
    ends = await consumer.end_offsets(parts)
    return {tp: ((await consumer.committed(tp)) or 0, ends[tp]) for tp in parts}


class DeadLetterCount:
    """How many dead letters a group has that were not re-driven yet, re-counted aside every
    few seconds (a readiness probe must not wait for Kafka): its own dead-letter topics hold
    nothing but its letters, so the count is how far each reaches past the re-drive."""

    def __init__(self, platform: PlatformSettings, consumer: str, read: Iterable[Topic]) -> None:
        self._platform = platform
        self._group = redrive_group(subscriber_group(platform, consumer))
        self._parts = list(dead_letter_partitions(platform, consumer, read))
        self.value: int | None = None

    async def refresh(self) -> int:
        async with reader(self._platform, self._group) as consumer:
            window = await outstanding_window(consumer, self._parts)
        self.value = sum(end - start for start, end in window.values())
        return self.value

    async def figure(self) -> int | str:
        return "not yet counted" if self.value is None else self.value
