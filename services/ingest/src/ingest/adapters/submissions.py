"""Ingest's own database: one document per upload, accepted or rejected, with why."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from servicekit.mongo import Document


class Submissions:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._coll = db["submissions"]

    async def ensure_indexes(self) -> None:
        await self._coll.create_index([("submitted_at", 1)])

    async def record(
        self, submission_id: uuid.UUID, *, status: str, at: datetime, by: str, **details: Any
    ) -> None:
        # Each submission is recorded once, under its new id: an insert, no lookup first.
        await self._coll.insert_one(
            {
                "_id": str(submission_id),
                "status": status,
                "submitted_at": at,
                "submitted_by": by,
                **details,
            }
        )

    async def get(self, submission_id: uuid.UUID) -> Document | None:
        return await self._coll.find_one({"_id": str(submission_id)})
