"""Re-driving a consumer group's dead letters (死信重投) once their cause is mended.

The service reads its own dead-letter topics, which no other principal can write, and takes
each letter for a pointer only: the topic it lies beside (never what the letter says of itself),
a partition and an offset. What is handed over again is the message that position of the
original topic holds, which only the topic's producer could write, and only if the letter's
bytes are that message: a forged letter hands over nothing. The message goes to the subscriber
that first failed it, through the broker's middlewares, as if read from where it was first read:
the producer check, the same retries, the same dead-lettering if it fails again (it then waits
at the end of the dead-letter topic for the next re-drive). A record that is no letter is
skipped, counted and reported, and the letters behind it go on.

A group of its own (``<group>.redrive``) commits how far the dead-letter topics were re-driven,
so each letter is re-driven once; a crash in between hands one again, which the handlers,
idempotent, take once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from faststream.kafka import KafkaBroker

from contracts.events import SkippedLetter
from contracts.topics import Topic
from servicekit.kafka_reading import (
    DeadLetter,
    MalformedLetter,
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
    skipped: tuple[SkippedLetter, ...]
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
        consumer: str,
        read: Collection[Topic],
        record_handlers: Mapping[str, RecordHandler],
    ) -> None:
        """``consumer``: the service whose group ``group`` is; ``record_handlers``: by topic,
        where a batch subscriber reads it, the handler of one record (a batch subscriber's own
        processing would commit its live consumer)."""
        self._platform, self._broker, self.group = platform, broker, group
        self._record_handlers = record_handlers
        self._parts = dead_letter_partitions(platform, consumer, read)
        self._partitions = {t.name(platform.namespace): t.partitions for t in read}  # by topic
        self._lock = asyncio.Lock()  # one re-drive at a time

    async def redrive(self, timeout: float) -> Redriven:
        """Hand every dead letter of the group to its subscriber again, partition by partition
        in order, for up to ``timeout`` seconds."""
        done: list[DeadLetter] = []
        skipped: list[SkippedLetter] = []
        async with (
            self._lock,
            reader(self._platform, redrive_group(self.group)) as letters,
            reader(self._platform) as originals,
        ):
            window = await outstanding_window(letters, list(self._parts))
            deadline = time.monotonic() + timeout
            for record in await read_window(letters, window):
                left = deadline - time.monotonic()
                if left <= 0:
                    return Redriven(tuple(done), tuple(skipped), finished=False)
                tp = TopicPartition(record.topic, record.partition)
                try:
                    letter = letter_of(record, self._parts[tp])
                    partitions = self._partitions[letter.topic]
                    original = await _original(originals, record, letter, partitions)
                except MalformedLetter as error:
                    log.warning("not a dead letter: skipped", at=str(tp), offset=record.offset)
                    skipped.append(
                        SkippedLetter(
                            partition=record.partition,
                            offset=record.offset,
                            dead_letter_topic=record.topic,
                            why=str(error),
                        )
                    )
                else:
                    try:
                        async with asyncio.timeout(left):
                            await self._hand_over(original)
                    except TimeoutError:  # a dependency still down: this letter stays
                        return Redriven(tuple(done), tuple(skipped), finished=False)
                    except Exception:  # its cause is not mended: it stays, and what follows
                        log.exception("re-driving a dead letter failed", letter=letter)
                        return Redriven(tuple(done), tuple(skipped), finished=False)
                    done.append(letter)
                await letters.commit({tp: OffsetAndMetadata(record.offset + 1, "")})
        log.info("dead letters re-driven", group=self.group, count=len(done), skipped=len(skipped))
        return Redriven(tuple(done), tuple(skipped), finished=True)

    async def _hand_over(self, original: ConsumerRecord[bytes, bytes]) -> None:
        if (handle := self._record_handlers.get(original.topic)) is not None:
            await handle(original)
            return
        subscriber = self._subscriber_of(original.topic)
        again: Any = original
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


async def _original(
    consumer: AIOKafkaConsumer,
    letter_record: ConsumerRecord[bytes, bytes],
    letter: DeadLetter,
    partitions: int,
) -> ConsumerRecord[bytes, bytes]:
    """The message at the letter's position of its topic (of ``partitions``), if the letter
    carries exactly it."""
    tp = TopicPartition(letter.topic, letter.partition)
    if letter.partition >= partitions:
        raise MalformedLetter(f"{letter.topic} has no partition {letter.partition}")
    first, end = (
        (await consumer.beginning_offsets([tp]))[tp],
        (await consumer.end_offsets([tp]))[tp],
    )
    if not first <= letter.offset < end:
        raise MalformedLetter(
            f"{letter.topic} holds no message at partition {letter.partition} offset "
            f"{letter.offset} (it holds {first} to {end - 1})"
        )
    [original] = await read_window(consumer, {tp: (letter.offset, letter.offset + 1)})
    if (original.key, original.value) != (letter_record.key, letter_record.value):
        raise MalformedLetter(
            f"is not the message {letter.topic} holds at partition {letter.partition} offset "
            f"{letter.offset}: a forged letter"
        )
    return original
