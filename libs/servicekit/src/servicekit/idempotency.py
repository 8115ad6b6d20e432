"""Idempotent consumers: an event id is handled once, however often Kafka delivers it.

The ids a consumer has finished are kept in its own database under a primary key. Work that
a crash can interrupt between "done" and "marked" must itself be safe to repeat (an upsert, an
insert keyed by a natural id, a publish with a derived event id); this helper makes the common
case — a plain redelivery — a no-op.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from contracts.envelope import Envelope
from contracts.types import utc_now
from servicekit.database import Pool


class ProcessedEvents:
    def __init__(self, pool: Pool, consumer: str) -> None:
        self._pool = pool
        self._consumer = consumer

    async def handle_once(self, event: Envelope[Any], work: Callable[[], Awaitable[None]]) -> bool:
        """Run ``work`` unless this event was handled before. True if it ran."""
        async with self._pool.connection() as conn:
            seen = await conn.execute(
                "SELECT 1 FROM processed_events WHERE consumer = %s AND event_id = %s",
                (self._consumer, str(event.id)),
            )
            if await seen.fetchone() is not None:
                return False
        await work()
        # A concurrent redelivery may have finished first; the work was repeat-safe.
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO processed_events (consumer, event_id, type) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (self._consumer, str(event.id), event.type),
            )
        return True

    async def prune(self, keep: timedelta) -> int:
        """Forget ids handled longer ago than Kafka can redeliver them (its retention, at least)."""
        async with self._pool.connection() as conn:
            done = await conn.execute(
                "DELETE FROM processed_events WHERE handled_at <= %s", (utc_now() - keep,)
            )
            return done.rowcount
