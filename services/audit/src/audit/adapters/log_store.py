"""Audit's own database: the entries, append-only (this code never updates or deletes one)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from servicekit.mongo import Document

_HIDDEN = {"_id": 0}
DUPLICATE_KEY = 11000
CHUNK = 100  # entries per insert: what the local FerretDB keeps in order (see ``append``)


class LogStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._coll = db["entries"]

    async def ensure_indexes(self) -> None:
        await self._coll.create_index("seq", unique=True)  # two writers cannot fork the chain
        await self._coll.create_index("event_id", unique=True)  # an event is recorded once
        await self._coll.create_index("record_ids")
        await self._coll.create_index([("fonds_codes", 1), ("seq", 1)])
        await self._coll.create_index([("actor", 1), ("seq", 1)])
        await self._coll.create_index([("event_type", 1), ("seq", 1)])

    async def head(self) -> Document | None:
        return await self._coll.find_one({}, projection=_HIDDEN, sort=[("seq", -1)])

    async def has_event(self, event_id: str) -> bool:
        # An entry's _id is its event's id: the one lookup every store answers from its
        # primary key (FerretDB's SQLite backend scans the collection for any other field).
        if await self._coll.find_one({"_id": event_id}, projection={"_id": 1}):
            return True
        # Entries written before that kept a generated _id.
        return await self._coll.find_one({"event_id": event_id}, projection={"_id": 1}) is not None

    async def events_present(self, event_ids: list[str]) -> set[str]:
        cursor = self._coll.find({"event_id": {"$in": event_ids}}, projection={"event_id": 1})
        return {d["event_id"] async for d in cursor}

    async def fonds_of_records(self, record_ids: list[str]) -> list[str]:
        """The fonds of earlier entries about these records (their archiving, their intake)."""
        cursor = self._coll.find(
            {"record_ids": {"$in": record_ids}, "fonds_codes.0": {"$exists": True}},
            projection={"fonds_codes": 1},
        ).limit(100)
        return sorted({f async for d in cursor for f in d["fonds_codes"]})

    async def append(self, entries: Sequence[Document]) -> int:
        """Stores the entries in order up to the first clash; how many it stored.

        Written in chunks of at most ``CHUNK``: the local FerretDB runs an ordered insert in
        chunks of 100 and, after a clash in one, goes on with the next, reporting the total
        (an insert of 200 with a clash at 5 stored 0–4 and 100–199 and said 105). A prefix
        count was then wrong: the entries between were lost and the log had gaps."""
        stored = 0
        for start in range(0, len(entries), CHUNK):
            docs = [{"_id": e["event_id"], **e} for e in entries[start : start + CHUNK]]
            try:
                await self._coll.insert_many(docs, ordered=True)  # up to the first clash
            except BulkWriteError as error:
                errors = error.details["writeErrors"]
                if any(e.get("code") != DUPLICATE_KEY for e in errors):
                    raise
                inserted = int(error.details["nInserted"])
                if inserted != errors[0]["index"]:  # not a prefix: refuse to guess
                    raise OrderedInsertBroken(
                        f"the database stored {inserted} entries of an ordered insert that "
                        f"clashed at entry {errors[0]['index']}"
                    ) from error
                return stored + inserted
            stored += len(docs)
        return stored

    async def query(self, filters: dict[str, Any], after_seq: int, limit: int) -> list[Document]:
        cursor = (
            self._coll.find({**filters, "seq": {"$gt": after_seq}}, projection=_HIDDEN)
            .sort("seq", 1)
            .limit(limit)
        )
        return [d async for d in cursor]

    async def all_in_order(self, batch: int = 1000) -> AsyncIterator[Document]:
        after = 0
        while True:
            page = await self.query({}, after, batch)
            for d in page:
                yield d
            if len(page) < batch:
                return
            after = int(page[-1]["seq"])


class OrderedInsertBroken(Exception):
    """The database did not stop an ordered insert at its first clash."""
