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
async def reader(platform: PlatformSettings) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer in no group that commits nothing; an offset older than the topic's oldest
    reads from the oldest."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=platform.kafka_bootstrap,
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


async def dead_letters(
    platform: PlatformSettings, group: str, read: Iterable[Topic]
) -> list[DeadLetter]:
    """The messages ``group`` set aside while reading the topics ``read`` (its dead letters),
    from their dead-letter topics as the registry makes them."""
    parts = [
        TopicPartition(t.dead_letter(platform.namespace), p)
        for t in set(read)
        for p in range(t.partitions)
    ]
    if not parts:
        return []
    found = []
    async with reader(platform) as consumer:
        ends = await consumer.end_offsets(parts)
        for record in await read_window(consumer, {tp: (0, end) for tp, end in ends.items()}):
            headers = {k: v.decode(errors="replace") for k, v in record.headers or []}
            if headers.get("x-dlt-group") == group:
                found.append(
                    DeadLetter(
                        headers["x-dlt-original-topic"],
                        int(headers["x-dlt-original-partition"]),
                        int(headers["x-dlt-original-offset"]),
                        headers.get("x-dlt-error-type", ""),
                    )
                )
    return found


class DeadLetterCount:
    """How many dead letters a group has, re-read aside every few seconds: reading the topics
    takes a moment, which a readiness probe must not wait for."""

    def __init__(self, platform: PlatformSettings, group: str, read: Iterable[Topic]) -> None:
        self._platform, self._group, self._read = platform, group, list(read)
        self.value: int | None = None

    async def refresh(self) -> int:
        self.value = len(await dead_letters(self._platform, self._group, self._read))
        return self.value

    async def figure(self) -> int | str:
        return "not yet counted" if self.value is None else self.value
