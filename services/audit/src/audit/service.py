"""Audit's use cases: append every domain event to the log (a hash chain, and a Merkle tree over
it); query and export it; prove inclusion and consistency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from audit.domain.chain import Position, fonds_named, iso, next_entry, record_ids_of
from audit.ports import Document, LogStore, TreeStore
from contracts.envelope import AnyEnvelope
from contracts.merkle import (
    Frontier,
    Hash,
    Range,
    blocks,
    consistency_ranges,
    fold,
    inclusion_ranges,
)
from contracts.trail import leaf_of
from contracts.types import utc_now

log = structlog.get_logger()


class OutOfRange(Exception):
    """A proof asked of entries or tree sizes the log does not have."""


@dataclass(frozen=True)
class Unpublished:
    """The tree as it stands, its leaves since the last published checkpoint, and the highest
    source offset its entries hold per partition."""

    size: int
    root: Hash
    first_leaf: int
    leaves: tuple[Hash, ...]
    positions: dict[tuple[str, int], int]


class AuditService:
    """The one appender of the log: entries, the tree's node hashes, and the leaves awaiting
    their checkpoint. The database has no multi-document transactions, so one writer at a time
    keeps the entries and the nodes in step; after a failure the tree is rebuilt from the
    entries (the leaves) before the next append."""

    def __init__(self, store: LogStore, tree: TreeStore) -> None:
        self._store = store
        self._tree = tree
        self._lock = asyncio.Lock()  # one appender at a time in this process
        self._head: Document | None = None  # the last entry, as far as this process knows
        self._head_known = False
        self._frontier: Frontier | None = None  # None: rebuild from the leaves first
        self._published = 0  # tree size of the last checkpoint published
        self._unpublished: list[Hash] = []
        # The highest offset recorded per source partition: published with each checkpoint.
        self._positions: dict[tuple[str, int], int] = {}

    async def record(self, event: AnyEnvelope, position: Position | None = None) -> None:
        """Append ``event`` once. Redelivery finds its id already recorded and does nothing."""
        await self.record_all([(event, position)])

    async def record_all(self, events: Sequence[tuple[AnyEnvelope, Position | None]]) -> None:
        """Append each event once, in order, in as few writes as the store allows (a batch
        consumer's): its entries in one, their tree nodes in one.

        The unique indexes decide: a clash on ``event_id`` means already recorded (skipped);
        a clash on ``seq`` means another writer appended first, so the head is re-read and the
        rest tried again.
        """
        pending = [(event, await self._fonds(event), position) for event, position in events]
        async with self._lock:
            for _ in range(20 + len(pending)):
                if not pending:
                    return
                frontier = await self._ready()
                if not self._head_known:
                    self._head, self._head_known = await self._store.head(), True
                entries, previous, now = [], self._head, utc_now()
                for event, fonds, position in pending:
                    previous = next_entry(previous, event, now, fonds, position)
                    entries.append(previous)
                stored = await self._store.append(entries)
                if stored:
                    self._head = entries[stored - 1]
                    await self._grow(frontier, entries[:stored])
                if stored == len(entries):
                    return
                clashed = str(pending[stored][0].id)
                if await self._store.has_event(clashed):
                    pending = pending[stored + 1 :]  # a redelivery: recorded already
                else:  # another writer took this seq: our head and tree are behind
                    pending = pending[stored:]
                    self._head_known, self._frontier = False, None
            raise RuntimeError(f"could not append {len(pending)} events after many tries")

    async def _fonds(self, event: AnyEnvelope) -> list[str]:
        """The fonds an event names, or those of the records it names (from their entries)."""
        fonds = fonds_named(event.data)
        if not fonds and (ids := record_ids_of(event.data)):
            fonds = await self._store.fonds_of_records(ids)
        return fonds

    async def _grow(self, frontier: Frontier, entries: Sequence[Document]) -> None:
        leaves = [leaf_of(e) for e in entries]
        try:
            await self._tree.keep([n for leaf in leaves for n in frontier.append(leaf)])
        except Exception:
            self._frontier = None  # the entries are kept, their nodes perhaps not: rebuild
            raise
        self._unpublished += leaves
        for entry in entries:
            self._note_position(entry)

    def _note_position(self, entry: Document) -> None:
        if entry.get("position"):
            topic, partition, offset = entry["position"]
            key = (topic, int(partition))
            self._positions[key] = max(self._positions.get(key, -1), int(offset))

    async def _ready(self) -> Frontier:
        """The tree of every entry, rebuilt from the entries when not known in step."""
        if self._frontier is not None:
            return self._frontier
        frontier, nodes, leaves = Frontier(), [], []
        self._positions = {}
        async for entry in self._store.all_in_order():
            self._note_position(entry)
            if int(entry["seq"]) != frontier.size + 1:
                log.error("audit log has a gap or is out of order", seq=entry["seq"])
            leaf = leaf_of(entry)
            nodes += frontier.append(leaf)
            if frontier.size > self._published:
                leaves.append(leaf)
            if len(nodes) >= 10_000:
                await self._tree.keep(nodes, rebuilding=True)
                nodes = []
        await self._tree.keep(nodes, rebuilding=True)
        self._frontier, self._unpublished = frontier, leaves
        log.info("audit tree rebuilt from the entries", size=frontier.size)
        return frontier

    async def start(self, published: int) -> None:
        """At start: the size of the last published checkpoint, then the tree from the leaves."""
        async with self._lock:
            self._published, self._frontier = published, None
            await self._ready()

    async def unpublished(self) -> Unpublished:
        async with self._lock:
            frontier = await self._ready()
            leaves = tuple(self._unpublished)
            return Unpublished(
                frontier.size, frontier.root(), self._published, leaves, dict(self._positions)
            )

    async def events_present(self, event_ids: list[str]) -> set[str]:
        return await self._store.events_present(event_ids)

    async def awaiting(self) -> int:
        """How many entries await their checkpoint."""
        return len(self._unpublished)

    async def published(self, size: int) -> None:
        """A checkpoint of ``size`` leaves is out: its leaves need not be kept here."""
        async with self._lock:
            self._unpublished = self._unpublished[size - self._published :]
            self._published = size

    async def size(self) -> int:
        async with self._lock:
            return (await self._ready()).size

    async def _roots(self, ranges: list[Range]) -> list[Hash]:
        needed = {b for lo, hi in ranges for b in blocks(lo, hi)}
        found = await self._tree.hashes(needed)
        if missing := needed - found.keys():
            raise RuntimeError(f"tree nodes missing: {sorted(missing)[:3]}…; restart rebuilds")
        return [fold([found[b] for b in blocks(lo, hi)]) for lo, hi in ranges]

    async def root(self, tree_size: int) -> Hash:
        await self._within(tree_size)
        [root] = await self._roots([(0, tree_size)])
        return root

    async def inclusion(self, seq: int, tree_size: int) -> tuple[Hash, list[Hash]]:
        """The leaf of entry ``seq`` and its audit path in the tree of ``tree_size`` leaves."""
        await self._within(tree_size)
        if not 1 <= seq <= tree_size:
            raise OutOfRange(f"entry {seq} is not in a tree of {tree_size}")
        leaf, *path = await self._roots([(seq - 1, seq), *inclusion_ranges(seq - 1, tree_size)])
        return leaf, path

    async def consistency(self, first: int, second: int) -> list[Hash]:
        await self._within(second)
        if not 1 <= first <= second:
            raise OutOfRange(f"no consistency proof from {first} to {second}")
        return await self._roots(consistency_ranges(first, second))

    async def _within(self, tree_size: int) -> None:
        size = await self.size()
        if not 1 <= tree_size <= size:
            raise OutOfRange(f"tree size {tree_size}: the log has 1 to {size} entries")

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
