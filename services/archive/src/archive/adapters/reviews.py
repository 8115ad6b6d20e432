"""Archive's own database, the review part: an archivist's decision on a held record, one per
record, kept under the record's id so that of two archivists deciding at once one decides."""

from __future__ import annotations

import uuid

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from archive.domain.lifecycle import HoldConflict
from contracts.events import RecordReviewed
from servicekit.mongo import Document


class Reviews:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._reviews = db["reviews"]

    async def decide(self, reviewed: RecordReviewed) -> None:
        """Keep the decision unless the record was decided already (HoldConflict naming who)."""
        try:
            await self._reviews.insert_one(
                {
                    "_id": str(reviewed.record_id),
                    "event": reviewed.model_dump_json(),
                    "published": False,
                }
            )
        except DuplicateKeyError as error:
            held = await self._reviews.find_one({"_id": str(reviewed.record_id)})
            earlier = RecordReviewed.model_validate_json(held["event"]) if held else None
            by = ""
            if earlier is not None:
                by = f" by {earlier.reviewed_by} at {earlier.reviewed_at:%Y-%m-%d %H:%M} UTC"
            raise HoldConflict(f"{reviewed.archive_code} was reviewed already{by}") from error

    async def published(self, record_id: uuid.UUID) -> None:
        await self._reviews.update_one({"_id": str(record_id)}, {"$set": {"published": True}})

    async def unpublished(self) -> list[RecordReviewed]:
        """Decisions kept whose event a crash kept from going out."""
        cursor = self._reviews.find({"published": False})
        return [RecordReviewed.model_validate_json(d["event"]) async for d in cursor]
