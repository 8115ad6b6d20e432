"""Idempotent consumers: an event id is handled once, however often Kafka delivers it.

The ids a consumer has handled are kept in its own database under a primary key, marked in the
unit of work of what handling the event changed and published (``servicekit.database``): the
mark, the state and the events are committed together, so a redelivery — after a crash, or a
second delivery racing the first — is a no-op, and work that failed leaves no mark.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from contracts.envelope import Envelope
from contracts.types import utc_now
from servicekit.database import Pool, unit_of_work


class ProcessedEvents:
    def __init__(self, pool: Pool, consumer: str) -> None:
        self._pool = pool
        self._consumer = consumer
        self._unit = unit_of_work(pool)

    async def handle_once(self, event: Envelope[Any], work: Callable[[], Awaitable[None]]) -> bool:
        """Run ``work`` in one unit of work with the event's mark, unless it was handled before
        (a delivery racing this one waits for it, then finds the mark). True if it ran."""
        async with self._unit():
            async with self._pool.connection() as conn:
                marked = await conn.execute(
                    "INSERT INTO processed_events (consumer, event_id, type) VALUES (%s, %s, %s) "
                    "ON CONFLICT DO NOTHING",
                    (self._consumer, str(event.id), event.type),
                )
            if marked.rowcount == 0:
                return False
            await work()
        return True

    async def prune(self, keep: timedelta) -> int:
        """Forget ids handled longer ago than Kafka can redeliver them (its retention, at least)."""
        async with self._pool.connection() as conn:
            done = await conn.execute(
                "DELETE FROM processed_events WHERE handled_at <= %s", (utc_now() - keep,)
            )
            return done.rowcount
