"""Dead letters: a message that cannot be read, or keeps failing, moves aside; the consumer goes on.

The dead-letter topic is the original topic's name plus ``.dlt`` (see ``contracts.topics``).
The original key, value and headers are kept; ``x-dlt-*`` headers say what went wrong.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from faststream import BaseMiddleware
from faststream.kafka import KafkaBroker
from pydantic import ValidationError

from contracts.topics import DEAD_LETTER_SUFFIX

if TYPE_CHECKING:
    from faststream._internal.basic_types import AsyncFuncAny
    from faststream._internal.context.repository import ContextRepo
    from faststream.message import StreamMessage

log = structlog.get_logger()

# Errors that no retry can mend: the message itself is wrong (RecursionError: nested too deep).
POISON = (ValidationError, json.JSONDecodeError, UnicodeDecodeError, RecursionError)


class DeadLetters:
    """Factory of the dead-letter middleware; holds the broker it publishes with."""

    def __init__(self, attempts: int, backoff_seconds: float = 0.2) -> None:
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self._broker: KafkaBroker | None = None

    def bind(self, broker: KafkaBroker) -> None:
        self._broker = broker

    def middleware(self, msg: Any, /, *, context: ContextRepo) -> BaseMiddleware:
        return _DeadLetterMiddleware(msg, context=context, owner=self)

    async def send(self, msg: StreamMessage[Any], error: BaseException, attempts: int) -> None:
        assert self._broker is not None, "DeadLetters.bind() was not called"
        record = msg.raw_message
        topic = f"{record.topic}{DEAD_LETTER_SUFFIX}"
        headers = {k: v.decode(errors="replace") for k, v in (record.headers or [])}
        headers.update(
            {
                "x-dlt-original-topic": record.topic,
                "x-dlt-original-partition": str(record.partition),
                "x-dlt-original-offset": str(record.offset),
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
    def __init__(self, msg: Any, /, *, context: ContextRepo, owner: DeadLetters) -> None:
        super().__init__(msg, context=context)
        self._owner = owner

    async def consume_scope(self, call_next: AsyncFuncAny, msg: StreamMessage[Any]) -> Any:
        attempt = 0
        while True:
            attempt += 1
            try:
                return await call_next(msg)
            except POISON as error:
                await self._owner.send(msg, error, attempt)
                return None
            except Exception as error:
                if attempt >= self._owner.attempts:
                    await self._owner.send(msg, error, attempt)
                    return None
                log.warning("handler failed, retrying", attempt=attempt, error=str(error)[:500])
                await asyncio.sleep(self._owner.backoff_seconds * 2 ** (attempt - 1))
