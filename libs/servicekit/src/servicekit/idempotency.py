"""Idempotent consumers: an event id is handled once, however often Kafka delivers it.

The ids a consumer has finished are kept in its own database under a unique index. Work that
a crash can interrupt between "done" and "marked" must itself be safe to repeat (an upsert, an
insert keyed by a natural id, a publish with a derived event id); this helper makes the common
case — a plain redelivery — a no-op.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from contracts.envelope import Envelope
from contracts.types import utc_now
from servicekit.mongo import Document


class ProcessedEvents:
    COLLECTION = "processed_events"

    def __init__(self, db: AsyncDatabase[Document], consumer: str) -> None:
        self._coll = db[self.COLLECTION]
        self._consumer = consumer

    def _key(self, event: Envelope[Any]) -> str:
        return f"{self._consumer}:{event.id}"

    async def handle_once(self, event: Envelope[Any], work: Callable[[], Awaitable[None]]) -> bool:
        """Run ``work`` unless this event was handled before. True if it ran."""
        key = self._key(event)
        if await self._coll.find_one({"_id": key}, projection={"_id": 1}) is not None:
            return False
        await work()
        # A concurrent redelivery may have finished first; the work was repeat-safe.
        with contextlib.suppress(DuplicateKeyError):
            await self._coll.insert_one({"_id": key, "type": event.type, "handled_at": utc_now()})
        return True

    async def prune(self, keep: timedelta) -> int:
        """Forget ids handled longer ago than Kafka can redeliver them (its retention, at least)."""
        result = await self._coll.delete_many({"handled_at": {"$lte": utc_now() - keep}})
        return int(result.deleted_count)
