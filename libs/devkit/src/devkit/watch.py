"""Watch the platform's topics from outside, as the OA system or an operator would."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from contracts.envelope import AnyEnvelope, new_event
from contracts.topics import RECORDS_ARCHIVED, Topic, source_of
from devkit.kafka_access import security
from devkit.samples import archived_record
from devkit.send import EventSender


@dataclass(frozen=True)
class Seen:
    topic: str
    event: AnyEnvelope
    at: float  # time.monotonic() when it arrived


class EventWatcher:
    """Reads the given topics from their current end onward (nothing earlier is seen)."""

    def __init__(self, bootstrap: str, namespace: str, topics: list[Topic]) -> None:
        self._names = [t.name(namespace) for t in topics]
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, **security()
        )
        self.seen: list[Seen] = []
        self._next: dict[TopicPartition, int] = {}  # offset of the next record to read
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> EventWatcher:
        await self._consumer.start()
        partitions = [
            TopicPartition(name, p)
            for name in self._names
            for p in sorted(
                self._consumer.partitions_for_topic(name) or await self._partitions(name)
            )
        ]
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for tp in partitions:  # fix the start positions now, before anything is published
            self._next[tp] = await self._consumer.position(tp)
        self._task = asyncio.create_task(self._run())
        return self

    async def _partitions(self, name: str) -> set[int]:
        await self._consumer._client.force_metadata_update()
        parts = self._consumer.partitions_for_topic(name)
        if not parts:
            raise RuntimeError(f"topic {name} does not exist: run `make infra-up` or create topics")
        return set(parts)

    async def __aexit__(self, *exc: object) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()

    async def _run(self) -> None:
        async for record in self._consumer:
            event = AnyEnvelope.model_validate(json.loads(record.value))
            self.seen.append(Seen(record.topic, event, time.monotonic()))
            self._next[TopicPartition(record.topic, record.partition)] = record.offset + 1
            self._changed.set()

    async def wait_for(
        self, predicate: Callable[[AnyEnvelope], bool], timeout: float = 30, count: int = 1
    ) -> list[AnyEnvelope]:
        """The first ``count`` events matching ``predicate``, waiting up to ``timeout`` seconds."""

        def enough() -> bool:
            return sum(1 for s in self.seen if predicate(s.event)) >= count

        await self.wait_until(enough, timeout, f"{count} matching events")
        return [s.event for s in self.seen if predicate(s.event)][:count]

    async def caught_up(self, timeout: float = 30) -> list[Seen]:
        """Everything published to the watched topics until now, once the watcher has read it.

        The positive signal that nothing more is on its way from what has finished: whatever
        was published before this call lies below the partitions' current end offsets.
        """
        ends = await self._consumer.end_offsets(list(self._next))

        def read_to_end() -> bool:
            return all(self._next[tp] >= end for tp, end in ends.items())

        await self.wait_until(read_to_end, timeout, "end of the watched topics")
        return list(self.seen)

    async def wait_until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {what} within {timeout} s ({len(self.seen)} events seen)")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)


async def consumed(
    bootstrap: str, namespace: str, service: str, topics: list[Topic], timeout: float = 60
) -> None:
    """The positive signal that a service's consumer group has handled everything published to
    ``topics`` so far: its committed offsets reach the partitions' current end offsets.

    A consumer started late has the backlog of every topic it reads to work through first, as
    long as that takes: it fails only when the group commits nothing for ``timeout`` seconds."""
    group = f"{namespace}.{service}"  # servicekit.kafka.subscriber_options
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, **security())
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **security())
    await probe.start()
    await admin.start()
    try:
        partitions = [
            TopicPartition(t.name(namespace), p) for t in topics for p in range(t.partitions)
        ]
        ends = await probe.end_offsets(partitions)
        deadline, progress = time.monotonic() + timeout, -1
        while True:
            committed = await admin.list_consumer_group_offsets(group)
            behind = {
                tp: end
                for tp, end in ends.items()
                if end > 0 and (tp not in committed or committed[tp].offset < end)
            }
            if not behind:
                return
            handled = sum(c.offset for c in committed.values())  # over every topic it reads
            if handled > progress:
                deadline, progress = time.monotonic() + timeout, handled
            elif time.monotonic() > deadline:
                raise TimeoutError(
                    f"group {group} handled nothing for {timeout} s; still behind: {behind}"
                )
            await asyncio.sleep(0.2)
    finally:
        await probe.stop()
        await admin.close()


def of_type(name: str, **data: Any) -> Callable[[AnyEnvelope], bool]:
    """Predicate: events named ``name`` (e.g. "RecordArchived") whose data has these values."""

    def match(e: AnyEnvelope) -> bool:
        return e.type.split(".")[-2] == name and all(e.data.get(k) == v for k, v in data.items())

    return match


async def heard_of(
    bootstrap: str, namespace: str, out: EventSender, fonds: str, services: tuple[str, ...]
) -> uuid.UUID:
    """A record of ``fonds`` announced as the archive announces one (RecordArchived), once
    ``services`` have taken it: a borrowing request may name it."""
    record = archived_record(fonds)
    subject = str(record.record_id)
    await out.send(
        new_event(record, source=source_of("archive"), subject=subject, correlation_id=subject)
    )
    for service in services:
        await consumed(bootstrap, namespace, service, [RECORDS_ARCHIVED])
    return record.record_id
