"""Audit's use cases: append every domain event to the chain; query, export and verify it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection
from datetime import datetime
from typing import Any

import structlog
from pymongo.errors import DuplicateKeyError

from audit.adapters.log_store import LogStore
from audit.domain.chain import (
    ChainVerifier,
    Verification,
    fonds_named,
    iso,
    next_entry,
    record_ids_of,
)
from contracts.envelope import AnyEnvelope
from contracts.types import utc_now
from servicekit.mongo import Document

log = structlog.get_logger()


class AuditService:
    def __init__(self, store: LogStore) -> None:
        self._store = store
        self._lock = asyncio.Lock()  # one appender at a time in this process
        self._head: Document | None = None  # the last entry, as far as this process knows
        self._head_known = False

    async def record(self, event: AnyEnvelope) -> None:
        """Append ``event`` once. Redelivery finds its id already recorded and does nothing.

        The unique indexes decide: a clash on ``event_id`` means already recorded; a clash on
        ``seq`` means another writer appended first, so the head is re-read and we try again.
        """
        event_id = str(event.id)
        fonds = fonds_named(event.data)
        if not fonds and (ids := record_ids_of(event.data)):
            fonds = await self._store.fonds_of_records(ids)
        async with self._lock:
            for _ in range(20):
                if not self._head_known:
                    self._head, self._head_known = await self._store.head(), True
                entry = next_entry(self._head, event, utc_now(), fonds)
                try:
                    await self._store.append(entry)
                except DuplicateKeyError:
                    self._head_known = False
                    if await self._store.has_event(event_id):
                        return
                    continue
                self._head = entry
                return
            raise RuntimeError(f"could not append event {event_id} after 20 tries")

    async def query(
        self,
        *,
        record_id: str | None,
        actor: str | None,
        event_type: str | None,
        since: datetime | None,
        until: datetime | None,
        after_seq: int,
        limit: int,
        fonds: Collection[str] | None = None,
    ) -> list[Document]:
        """``fonds``: only entries about these fonds (an auditor of some); None: every entry."""
        filters: dict[str, Any] = {}
        if fonds is not None:
            filters["fonds_codes"] = {"$in": sorted(fonds)}
        if record_id:
            filters["record_ids"] = record_id
        if actor:
            filters["actor"] = actor
        if event_type:
            filters["event_type"] = event_type
        time_range: dict[str, str] = {}
        if since:
            time_range["$gte"] = iso(since)
        if until:
            time_range["$lt"] = iso(until)
        if time_range:
            filters["time"] = time_range
        return await self._store.query(filters, after_seq, limit)

    def export(self) -> AsyncIterator[Document]:
        return self._store.all_in_order()

    async def verify(self) -> Verification:
        verifier = ChainVerifier()
        async for entry in self._store.all_in_order():
            if not verifier.check(entry):
                break
        result = verifier.result()
        if not result.ok:
            log.error("audit chain broken", seq=result.first_broken_seq, reason=result.reason)
        return result
