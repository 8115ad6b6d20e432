"""Dead letters: a message that cannot be read, is refused by a rule, or keeps failing moves aside;
the consumer goes on. A dependency that is down is no reason: that is waited out.

Each consumer group has a dead-letter topic of its own beside each topic it reads
(``<topic>.<service>.dlt``, ``contracts.topics``), which only its service's principal writes.
The original key, value and headers are kept; ``x-dlt-*`` headers say what went wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from aiokafka import TopicPartition
from faststream import BaseMiddleware
from faststream.kafka import KafkaBroker
from pydantic import ValidationError

from contracts.topics import dead_letter_topic
from servicekit.failures import dependency_of, is_transient

if TYPE_CHECKING:
    from faststream._internal.basic_types import AsyncFuncAny
    from faststream._internal.context.repository import ContextRepo
    from faststream.message import StreamMessage

log = structlog.get_logger()


class Refused(Exception):
    """A handler refuses the message by a rule (it would archive a voucher twice, say): no retry
    can change that, so it is dead-lettered at once, with the reason."""


# Errors that no retry can mend: the message itself is wrong (RecursionError: nested too deep).
POISON = (ValidationError, json.JSONDecodeError, UnicodeDecodeError, RecursionError, Refused)


class DeadLetters:
    """Factory of the dead-letter middleware; holds the broker it publishes with."""

    def __init__(
        self,
        attempts: int,
        backoff_seconds: float = 0.2,
        wait_cap_seconds: float = 10.0,
        group: str = "",
        consumer: str = "",
    ) -> None:
        """``group``: the consumer group whose dead letters these are; ``consumer``: its
        service, whose own dead-letter topics take them."""
        self.group, self.consumer = group, consumer
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self.wait_cap_seconds = wait_cap_seconds
        self._broker: KafkaBroker | None = None

    def bind(self, broker: KafkaBroker) -> None:
        self._broker = broker

    def middleware(self, msg: Any, /, *, context: ContextRepo) -> BaseMiddleware:
        return _DeadLetterMiddleware(msg, context=context, owner=self)

    async def send(self, msg: StreamMessage[Any], error: BaseException, attempts: int) -> None:
        """The message aside; a batch's messages each (a batch consumer's failure)."""
        for record in records_of(msg):
            await self.send_record(record, error, attempts)

    async def send_record(self, record: Any, error: BaseException, attempts: int) -> None:
        """One record aside (a batch consumer sets its poison aside one by one)."""
        assert self._broker is not None, "DeadLetters.bind() was not called"
        topic = dead_letter_topic(record.topic, self.consumer)
        headers = {k: v.decode(errors="replace") for k, v in (record.headers or [])}
        headers.update(
            {
                "x-dlt-original-topic": record.topic,
                "x-dlt-original-partition": str(record.partition),
                "x-dlt-original-offset": str(record.offset),
                "x-dlt-group": self.group,
                "x-dlt-error-type": type(error).__name__,
                "x-dlt-error": str(error)[:4000],
                "x-dlt-attempts": str(attempts),
                "x-dlt-failed-at": datetime.now(UTC).isoformat(),
            }
        )
        await self._broker.publish(record.value, topic=topic, key=record.key, headers=headers)
        log.error(
            "message dead-lettered",
            topic=record.topic,
            offset=record.offset,
            dead_letter_topic=topic,
            error_type=type(error).__name__,
            error=str(error)[:500],
        )


class _DeadLetterMiddleware(BaseMiddleware):
    """Poison at once to the dead-letter topic; a dependency down waited out, the partition
    paused and nothing committed, for as long as it takes; any other failure retried a few
    times, then dead-lettered."""

    def __init__(self, msg: Any, /, *, context: ContextRepo, owner: DeadLetters) -> None:
        super().__init__(msg, context=context)
        self._owner = owner

    async def consume_scope(self, call_next: AsyncFuncAny, msg: StreamMessage[Any]) -> Any:
        attempt, waits = 0, 0
        paused: _Paused | None = None
        try:
            while True:
                try:
                    return await call_next(msg)
                except POISON as error:
                    await self._owner.send(msg, error, attempt + 1)
                    return None
                except Exception as error:
                    if is_transient(error):
                        paused = paused or _Paused.of(msg)
                        waits += 1
                        backoff = self._owner.backoff_seconds * 2**waits
                        wait = min(self._owner.wait_cap_seconds, backoff)
                        log.warning(
                            "a dependency is down: partition paused, retrying",
                            dependency=dependency_of(error),
                            error=f"{type(error).__name__}: {str(error)[:300]}",
                            waits=waits,
                            retry_in=wait,
                        )
                        await asyncio.sleep(wait)
                        continue
                    attempt += 1
                    if attempt >= self._owner.attempts:
                        await self._owner.send(msg, error, attempt)
                        return None
                    log.warning("handler failed, retrying", attempt=attempt, error=str(error)[:500])
                    await asyncio.sleep(self._owner.backoff_seconds * 2 ** (attempt - 1))
        finally:
            if paused is not None:
                paused.resume()
                log.info("dependency back: partition resumed", waits=waits)


def records_of(msg: StreamMessage[Any]) -> tuple[Any, ...]:
    """The Kafka records of a message: one, or a batch consumer's several."""
    raw = msg.raw_message
    return raw if isinstance(raw, tuple) else (raw,)


class _Paused:
    """The message's partitions (a batch's, several), paused on its consumer: nothing more is
    fetched from them while the message waits; resumed when the message is done."""

    def __init__(self, consumer: Any, partitions: set[TopicPartition]) -> None:
        self._consumer, self._partitions = consumer, partitions

    @classmethod
    def of(cls, msg: StreamMessage[Any]) -> _Paused | None:
        consumer = getattr(msg, "consumer", None)
        if consumer is None or not hasattr(consumer, "pause"):
            return None  # an in-memory test broker: nothing to pause
        partitions = {TopicPartition(r.topic, r.partition) for r in records_of(msg)}
        consumer.pause(*partitions)
        return cls(consumer, partitions)

    def resume(self) -> None:
        with contextlib.suppress(Exception):  # the consumer may have stopped meanwhile
            self._consumer.resume(*self._partitions)
