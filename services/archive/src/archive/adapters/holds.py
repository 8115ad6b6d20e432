"""Archive's own database, the legal-hold part: each record's holds as an append-only log of
changes, numbered per record; the latest change is the record's state.

Of two changes made at once from one state (two archivists placing a hold, two releasing it),
the log's unique key lets one in: the other is refused. The log is also the hold's history.
"""

from __future__ import annotations

import uuid

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from archive.domain.lifecycle import HoldConflict, LegalHold
from servicekit.mongo import Document


def _hold(value: Document | None) -> LegalHold | None:
    return LegalHold(value["reason"], value["placed_by"], value["placed_at"]) if value else None


class Holds:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._changes = db["hold_changes"]
        self._records = db["records"]

    async def ensure_indexes(self) -> None:
        await self._changes.create_index([("record", 1), ("n", -1)])

    async def current(self, record_id: uuid.UUID) -> tuple[int, LegalHold | None]:
        """(the number of the latest change, the hold it leaves; None: not on hold)."""
        latest = await self._changes.find_one({"record": str(record_id)}, sort=[("n", -1)])
        if latest is not None:
            return int(latest["n"]), _hold(latest["hold"])
        # A record whose hold was set before the log: its own field says.
        doc = await self._records.find_one({"_id": str(record_id)}, projection={"legal_hold": 1})
        return 0, _hold(doc.get("legal_hold") if doc else None)

    async def change(self, record_id: uuid.UUID, after: int, hold: LegalHold | None) -> None:
        """Append the change that follows change ``after``: HoldConflict if another came first."""
        value = (
            None
            if hold is None
            else {"reason": hold.reason, "placed_by": hold.placed_by, "placed_at": hold.placed_at}
        )
        try:
            await self._changes.insert_one(
                {"_id": f"{record_id}#{after + 1:06d}", "record": str(record_id), "n": after + 1,
                 "hold": value}
            )  # fmt: skip
        except DuplicateKeyError as error:
            raise HoldConflict("the record's legal hold was changed meanwhile") from error
        # What appraisal queries read beside the record.
        await self._records.update_one({"_id": str(record_id)}, {"$set": {"legal_hold": value}})
