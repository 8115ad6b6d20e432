"""Reading topics back outside a consumer group: a window of each partition, and a consumer
group's dead letters (the readiness detail every service shows, and the audit log's verify)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from contracts.topics import Topic
from servicekit.kafka import client_options
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
    await consumer.start()
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
    topic: str  # where the message was read from
    partition: int
    offset: int
    error_type: str


def letter_of(record: ConsumerRecord[bytes, bytes], group: str) -> DeadLetter | None:
    """The dead letter a record of a dead-letter topic is, if ``group`` set it aside."""
    headers = {k: v.decode(errors="replace") for k, v in record.headers or []}
    if headers.get("x-dlt-group") != group:
        return None
    return DeadLetter(
        headers["x-dlt-original-topic"],
        int(headers["x-dlt-original-partition"]),
        int(headers["x-dlt-original-offset"]),
        headers.get("x-dlt-error-type", ""),
    )


def dead_letter_partitions(
    platform: PlatformSettings, read: Iterable[Topic]
) -> list[TopicPartition]:
    """The dead-letter topics' partitions of the topics ``read``, as the registry makes them."""
    return [
        TopicPartition(t.dead_letter(platform.namespace), p)
        for t in set(read)
        for p in range(t.partitions)
    ]


async def dead_letters(
    platform: PlatformSettings, group: str, read: Iterable[Topic]
) -> list[DeadLetter]:
    """The messages ``group`` ever set aside while reading the topics ``read`` (its dead
    letters, re-driven or not)."""
    parts = dead_letter_partitions(platform, read)
    if not parts:
        return []
    async with reader(platform) as consumer:
        ends = await consumer.end_offsets(parts)
        records = await read_window(consumer, {tp: (0, end) for tp, end in ends.items()})
    return [d for r in records if (d := letter_of(r, group))]


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
    few seconds (a readiness probe must not wait for Kafka). Each count reads only what came
    since the last one, and forgets what a re-drive has passed."""

    def __init__(self, platform: PlatformSettings, group: str, read: Iterable[Topic]) -> None:
        self._platform, self._group = platform, group
        self._parts = dead_letter_partitions(platform, read)
        self._read_to: dict[TopicPartition, int] = {}
        self._letters: dict[TopicPartition, list[int]] = {}  # offsets of the group's letters
        self.value: int | None = None

    async def refresh(self) -> int:
        async with reader(self._platform, redrive_group(self._group)) as consumer:
            window = await outstanding_window(consumer, self._parts)
            new = {
                tp: (max(start, self._read_to.get(tp, 0)), end)
                for tp, (start, end) in window.items()
            }
            for record in await read_window(consumer, new):
                if letter_of(record, self._group):
                    tp = TopicPartition(record.topic, record.partition)
                    self._letters.setdefault(tp, []).append(record.offset)
        for tp, (start, end) in window.items():
            self._read_to[tp] = end
            self._letters[tp] = [o for o in self._letters.get(tp, []) if o >= start]
        self.value = sum(len(v) for v in self._letters.values())
        return self.value

    async def figure(self) -> int | str:
        return "not yet counted" if self.value is None else self.value
