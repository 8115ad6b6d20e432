"""Re-driving a consumer group's dead letters (死信重投) once their cause is mended.

The service reads its own dead-letter topics (no principal writes a topic it does not own, so
nothing is re-published upstream) and hands each of its group's letters to the subscriber that
first failed it, through the broker's middlewares, as if read from where it was first read: the
same retries, the same dead-lettering if it fails again (it then waits at the end of the
dead-letter topic for the next re-drive). A group of its own (``<group>.redrive``) commits how
far the dead-letter topics were re-driven, so each letter is re-driven once; a crash in between
hands one again, which the handlers, idempotent, take once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from faststream.kafka import KafkaBroker

from contracts.topics import Topic
from servicekit.kafka_reading import (
    DeadLetter,
    dead_letter_partitions,
    letter_of,
    outstanding_window,
    read_window,
    reader,
    redrive_group,
)
from servicekit.settings import PlatformSettings

log = structlog.get_logger()


@dataclass(frozen=True)
class Redriven:
    letters: tuple[DeadLetter, ...]
    finished: bool  # False: stopped (time limit, a letter failing again); the rest stays


class _NoCommit:
    """The consumer FastStream's acknowledgement talks to for a re-driven letter: the re-drive
    commits its own group itself, after each letter, so ack and nack have nothing to do."""

    async def commit(self) -> None:
        return None

    def seek(self, partition: TopicPartition, offset: int) -> None:
        return None


RecordHandler = Callable[[ConsumerRecord[bytes, bytes]], Awaitable[None]]


class Redriver:
    def __init__(
        self,
        platform: PlatformSettings,
        broker: KafkaBroker,
        group: str,
        read: Iterable[Topic],
        record_handlers: Mapping[str, RecordHandler],
    ) -> None:
        """``record_handlers``: by topic, where a batch subscriber reads it, the handler of one
        record (a batch subscriber's own processing would commit its live consumer)."""
        self._platform, self._broker, self.group = platform, broker, group
        self._record_handlers = record_handlers
        self._parts = dead_letter_partitions(platform, read)
        self._lock = asyncio.Lock()  # one re-drive at a time

    async def redrive(self, timeout: float) -> Redriven:
        """Hand every dead letter of the group to its subscriber again, partition by partition
        in order, for up to ``timeout`` seconds."""
        done: list[DeadLetter] = []
        async with self._lock, reader(self._platform, redrive_group(self.group)) as consumer:
            window = await outstanding_window(consumer, self._parts)
            deadline = time.monotonic() + timeout
            for record in await read_window(consumer, window):
                left = deadline - time.monotonic()
                if left <= 0:
                    return Redriven(tuple(done), finished=False)
                letter = letter_of(record, self.group)
                if letter is not None:
                    try:
                        async with asyncio.timeout(left):
                            await self._hand_over(record, letter)
                    except TimeoutError:  # a dependency still down: this letter stays
                        return Redriven(tuple(done), finished=False)
                    except Exception:  # its cause is not mended: it stays, and what follows
                        log.exception("re-driving a dead letter failed", letter=letter)
                        return Redriven(tuple(done), finished=False)
                    done.append(letter)
                tp = TopicPartition(record.topic, record.partition)
                await consumer.commit({tp: OffsetAndMetadata(record.offset + 1, "")})
        log.info("dead letters re-driven", group=self.group, count=len(done))
        return Redriven(tuple(done), finished=True)

    async def _hand_over(self, record: ConsumerRecord[bytes, bytes], letter: DeadLetter) -> None:
        headers = [(k, v) for k, v in record.headers or [] if not k.startswith("x-dlt-")]
        again: Any = ConsumerRecord(
            topic=letter.topic,
            partition=letter.partition,
            offset=letter.offset,
            timestamp=record.timestamp,
            timestamp_type=record.timestamp_type,
            key=record.key,
            value=record.value,
            checksum=None,
            serialized_key_size=record.serialized_key_size,
            serialized_value_size=record.serialized_value_size,
            headers=tuple(headers),
        )
        if (handle := self._record_handlers.get(letter.topic)) is not None:
            await handle(again)
            return
        subscriber = self._subscriber_of(letter.topic)
        again.consumer = _NoCommit()  # FastStream's parser takes a record's own consumer
        # The subscriber's own processing: its middlewares (retries, dead-lettering, the
        # producer check, tracing) and its handler, as for a message read from the topic.
        await subscriber.process_message(again)

    def _subscriber_of(self, topic: str) -> Any:
        found = [
            s
            for s in self._broker.subscribers
            if topic in getattr(s, "topic_names_for_subscribe", ())
        ]
        mine = [s for s in found if getattr(s, "group_id", None) == self.group]
        if not (mine or found):
            raise LookupError(f"no subscriber of {topic} in this service")
        return (mine or found)[0]
