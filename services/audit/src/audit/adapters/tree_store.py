"""Audit's own database: the hashes of the Merkle tree's complete subtrees, so that appending
and proving need not read the whole log. Verify never trusts them: it recomputes from leaves."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from contracts.merkle import Hash, Node
from servicekit.mongo import Document

DUPLICATE_KEY = 11000


def _id(level: int, index: int) -> str:
    return f"{level}:{index}"


class TreeNodes:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._nodes = db["tree_nodes"]

    async def keep(self, nodes: Iterable[tuple[int, int, Hash]], rebuilding: bool = False) -> None:
        docs = [{"_id": _id(level, index), "hash": h} for level, index, h in nodes]
        if rebuilding:  # most are stored already, and clashing inserts are slow
            ids = [d["_id"] for d in docs]
            cursor = self._nodes.find({"_id": {"$in": ids}}, projection={"_id": 1})
            stored = {d["_id"] async for d in cursor}
            docs = [d for d in docs if d["_id"] not in stored]
        if not docs:
            return
        try:
            await self._nodes.insert_many(docs, ordered=False)
        except BulkWriteError as error:  # kept already (a retried append): the same hashes
            if any(e.get("code") != DUPLICATE_KEY for e in error.details["writeErrors"]):
                raise

    async def hashes(self, nodes: Iterable[Node]) -> dict[Node, Hash]:
        """A proof's few dozen nodes, each looked up by its _id at once: every store answers
        that from its primary key (FerretDB's SQLite backend scans the collection for `$in`)."""
        wanted = {_id(level, index): (level, index) for level, index in nodes}
        found = await asyncio.gather(*(self._nodes.find_one({"_id": k}) for k in wanted))
        return {wanted[d["_id"]]: bytes(d["hash"]) for d in found if d is not None}
