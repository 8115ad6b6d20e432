"""Permission's own database: grants, and each record's fonds (learned from RecordArchived)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from permission.domain.access import Grant
from servicekit.mongo import Document


def _from_doc(d: Document) -> Grant:
    return Grant(
        grant_id=uuid.UUID(d["_id"]),
        user=d["user"],
        actions=tuple(d["actions"]),
        fonds_code=d.get("fonds_code"),  # absent from grants made before routing by fonds
        record_ids=tuple(uuid.UUID(x) for x in d["record_ids"]),
        valid_from=d["valid_from"],
        valid_until=d["valid_until"],
        request_id=uuid.UUID(d["request_id"]),
        revoked_at=d.get("revoked_at"),
    )


RECORDS_KEPT = 200_000  # record → fonds pairs kept in memory


class Grants:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._grants = db["grants"]
        self._records = db["record_scopes"]
        # A record's fonds never changes once archived: kept in memory once known.
        self._fonds: dict[uuid.UUID, str] = {}

    async def ensure_indexes(self) -> None:
        await self._grants.create_index([("user", 1), ("record_ids", 1)])
        await self._grants.create_index([("revoked_at", 1), ("valid_until", 1)])

    async def add(self, g: Grant) -> None:
        """Upsert by grant id: a redelivered approval leaves one grant."""
        await self._grants.update_one(
            {"_id": str(g.grant_id)},
            {
                "$setOnInsert": {
                    "user": g.user,
                    "actions": list(g.actions),
                    "fonds_code": g.fonds_code,
                    "record_ids": [str(x) for x in g.record_ids],
                    "valid_from": g.valid_from,
                    "valid_until": g.valid_until,
                    "request_id": str(g.request_id),
                    "revoked_at": None,
                }
            },
            upsert=True,
        )

    async def get(self, grant_id: uuid.UUID) -> Grant | None:
        d = await self._grants.find_one({"_id": str(grant_id)})
        return _from_doc(d) if d else None

    async def for_user_record(self, user: str, record_id: uuid.UUID) -> list[Grant]:
        cursor = self._grants.find({"user": user, "record_ids": str(record_id)})
        return [_from_doc(d) async for d in cursor]

    async def for_user(self, user: str) -> list[Grant]:
        return [
            _from_doc(d) async for d in self._grants.find({"user": user}).sort("valid_from", -1)
        ]

    async def due_for_revocation(self, now: datetime) -> list[Grant]:
        cursor = self._grants.find({"revoked_at": None, "valid_until": {"$lte": now}})
        return [_from_doc(d) async for d in cursor]

    async def mark_revoked(self, grant_id: uuid.UUID, at: datetime) -> bool:
        result = await self._grants.update_one(
            {"_id": str(grant_id), "revoked_at": None}, {"$set": {"revoked_at": at}}
        )
        return result.modified_count == 1

    async def remember_record(self, record_id: uuid.UUID, fonds_code: str) -> None:
        await self._records.update_one(
            {"_id": str(record_id)}, {"$set": {"fonds_code": fonds_code}}, upsert=True
        )

    async def fonds_of(self, record_id: uuid.UUID) -> str | None:
        if (known := self._fonds.get(record_id)) is not None:
            return known
        doc = await self._records.find_one({"_id": str(record_id)})
        if doc is None:
            return None  # not yet heard of: asked again next time
        if len(self._fonds) >= RECORDS_KEPT:
            self._fonds.clear()
        self._fonds[record_id] = doc["fonds_code"]
        return str(doc["fonds_code"])
