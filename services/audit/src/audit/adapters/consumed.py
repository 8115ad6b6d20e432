"""What the audit service has consumed, read back from the broker: the consumer group's
committed offsets (which a database writer cannot edit) and the messages below them, so that
verify can tell an entry deleted after the last checkpoint from one never written."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from contracts.topics import DEAD_LETTER_SUFFIX
from servicekit.kafka import client_options
from servicekit.settings import PlatformSettings

Consumed = tuple[str, int, int, str | None]  # topic, partition, offset, event id
# No group, nothing committed; an offset older than the topic keeps reads from its oldest.
READER: dict[str, object] = {"enable_auto_commit": False, "auto_offset_reset": "earliest"}


class ConsumedFromBroker:
    def __init__(self, platform: PlatformSettings, group: str, topics: list[str]) -> None:
        self._platform = platform
        self._group = group
        self._topics = set(topics)

    def _client(self) -> dict[str, object]:
        return {"bootstrap_servers": self._platform.kafka_bootstrap} | client_options(
            self._platform
        )

    async def after(self, positions: Mapping[tuple[str, int], int]) -> list[Consumed]:
        """Each message the group has committed past, after the given offset of its partition
        (exclusive; from the start where none is given), its own dead letters left out."""
        admin = AIOKafkaAdminClient(**self._client())
        await admin.start()
        try:
            committed = await admin.list_consumer_group_offsets(self._group)
        finally:
            await admin.close()
        windows = {
            tp: (positions.get((tp.topic, tp.partition), -1) + 1, meta.offset)
            for tp, meta in committed.items()
            if tp.topic in self._topics
        }
        windows = {tp: w for tp, w in windows.items() if w[0] < w[1]}
        if not windows:
            return []
        dead = await self._dead_lettered({tp.topic for tp in windows})
        found = await self._read(windows)
        return [c for c in found if c[:3] not in dead]

    async def _dead_lettered(self, topics: set[str]) -> set[tuple[str, int, int]]:
        """(topic, partition, offset) of the messages this group set aside."""
        consumer = await _started(AIOKafkaConsumer(**self._client(), **READER))
        try:
            await consumer.topics()  # metadata of every topic, the dead-letter ones included
            parts = [
                TopicPartition(t + DEAD_LETTER_SUFFIX, p)
                for t in topics
                for p in (consumer.partitions_for_topic(t + DEAD_LETTER_SUFFIX) or ())
            ]
            if not parts:
                return set()
            ends = await consumer.end_offsets(parts)
            windows = {tp: (0, end) for tp, end in ends.items() if end > 0}
            dead: set[tuple[str, int, int]] = set()
            for record in await _window(consumer, windows):
                headers = {k: v.decode(errors="replace") for k, v in record.headers or []}
                if headers.get("x-dlt-group") == self._group:
                    dead.add(
                        (
                            headers["x-dlt-original-topic"],
                            int(headers["x-dlt-original-partition"]),
                            int(headers["x-dlt-original-offset"]),
                        )
                    )
            return dead
        finally:
            await consumer.stop()

    async def _read(self, windows: dict[TopicPartition, tuple[int, int]]) -> list[Consumed]:
        consumer = await _started(AIOKafkaConsumer(**self._client(), **READER))
        try:
            out: list[Consumed] = []
            for record in await _window(consumer, windows):
                try:
                    event_id = str(json.loads(record.value)["id"])
                except (ValueError, KeyError, TypeError):
                    event_id = None  # not an event at all: nothing the log could hold
                out.append((record.topic, record.partition, record.offset, event_id))
            return out
        finally:
            await consumer.stop()


async def _started(consumer: AIOKafkaConsumer) -> AIOKafkaConsumer:
    await consumer.start()
    # One turn of the loop before anything else: aiokafka's consumer without a group starts a
    # task that its stop() awaits, and a task cancelled before it first ran raises there.
    await asyncio.sleep(0)
    return consumer


async def _window(
    consumer: AIOKafkaConsumer, windows: dict[TopicPartition, tuple[int, int]], timeout: float = 60
) -> list[ConsumerRecord[bytes, bytes]]:
    """The records of each partition from its start offset up to (not including) its end."""
    consumer.assign(list(windows))
    for tp, (start, _) in windows.items():
        consumer.seek(tp, start)
    pending, records = set(windows), list[ConsumerRecord[bytes, bytes]]()
    deadline = time.monotonic() + timeout
    while pending:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(pending)} partitions not read to their end in {timeout} s")
        batch = await consumer.getmany(*pending, timeout_ms=500)
        for tp, got in batch.items():
            records += [r for r in got if r.offset < windows[tp][1]]
        for tp in list(pending):
            if await consumer.position(tp) >= windows[tp][1]:
                pending.discard(tp)
        await asyncio.sleep(0)
    return records
