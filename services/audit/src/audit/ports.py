"""What audit's use cases need from the outside world (ports); ``app.py`` hands them the real
adapters, unit tests in-memory fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from contracts.envelope import Envelope
from contracts.events import CheckpointPublished, TrailExported
from contracts.merkle import Hash, Node

Document = dict[str, Any]


class LogStore(Protocol):
    """The entries, append-only."""

    async def head(self) -> Document | None: ...

    async def has_event(self, event_id: str) -> bool: ...

    async def events_present(self, event_ids: list[str]) -> set[str]:
        """Which of these events have an entry."""
        ...

    async def fonds_of_records(self, record_ids: list[str]) -> list[str]: ...

    async def append(self, entries: Sequence[Document]) -> int:
        """Stores the entries in order up to the first whose ``seq`` or ``event_id`` is taken;
        how many it stored (all of them: ``len(entries)``)."""
        ...

    async def query(
        self, filters: dict[str, Any], after_seq: int, limit: int
    ) -> list[Document]: ...

    def all_in_order(self, batch: int = 1000) -> AsyncIterator[Document]: ...


class TreeStore(Protocol):
    """The hashes of the Merkle tree's complete subtrees, by (level, index)."""

    async def keep(self, nodes: Iterable[tuple[int, int, Hash]], rebuilding: bool = False) -> None:
        """Store nodes (those stored already are the same: hashes follow from the leaves);
        ``rebuilding``: most are stored already."""
        ...

    async def hashes(self, nodes: Iterable[Node]) -> dict[Node, Hash]: ...


@dataclass(frozen=True)
class PublishedNote:
    """A checkpoint's note as published: its key, the tree size the key names (None: the key
    names none) and the note's text at the key's first version."""

    key: str
    size: int | None
    note: str


class CheckpointStore(Protocol):
    """Where signed checkpoints and the leaf hashes they cover are published, beyond the reach
    of whoever writes the log's database (write once, no delete)."""

    async def publish(
        self,
        size: int,
        note: str,
        leaves: bytes,
        first_leaf: int,
        positions: Mapping[tuple[str, int], int],
    ) -> None:
        """The note of the tree of ``size`` leaves, the leaf hashes from leaf ``first_leaf``
        (the previous checkpoint's size) up to it, and the highest source offset its entries
        hold per (topic, partition)."""
        ...

    async def positions(self, size: int) -> dict[tuple[str, int], int]:
        """The source offsets published with the checkpoint of ``size`` leaves."""
        ...

    async def notes(self, after: int = 0) -> list[PublishedNote]:
        """Every note published under a key of a tree larger than ``after`` leaves (or of no
        size at all), in the keys' order, each as first written."""
        ...

    def leaves(self, upto: int) -> AsyncIterator[bytes]:
        """The published leaf hashes of leaves 0 … ``upto`` − 1, in order."""
        ...


class ConsumedEvents(Protocol):
    """What the broker says the audit service consumed (its group's committed offsets)."""

    async def after(
        self, positions: Mapping[tuple[str, int], int]
    ) -> list[tuple[str, int, int, str | None]]:
        """(topic, partition, offset, event id) of each message committed past after the given
        offsets, the group's own dead letters left out."""
        ...


class Publisher(Protocol):
    async def publish(
        self, event: Envelope[CheckpointPublished] | Envelope[TrailExported]
    ) -> None: ...


async def matching(store: LogStore, filters: dict[str, Any]) -> AsyncIterator[Document]:
    """Every entry ``filters`` match, in order, a page at a time."""
    after = 0
    while True:
        page = await store.query(filters, after, 1000)
        for entry in page:
            yield entry
        if len(page) < 1000:
            return
        after = int(page[-1]["seq"])
