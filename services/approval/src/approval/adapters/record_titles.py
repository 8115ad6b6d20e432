"""What the approval service learned of archived records, from ``RecordArchived``: how an OA's
form names them (档号 and 摘要), not an id a reader cannot look up. It asks no other service's
database; a record not heard of yet is named by its id."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from pymongo.asynchronous.database import AsyncDatabase

from contracts.events import RecordArchived
from servicekit.mongo import Document


def title_of(record: RecordArchived) -> str:
    what = record.voucher.summary if record.voucher else record.category.value
    return f"{record.archive_code} {what}"


class RecordTitles:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._titles = db["record_titles"]

    async def learn(self, record: RecordArchived) -> None:
        await self._titles.update_one(
            {"_id": str(record.record_id)}, {"$set": {"title": title_of(record)}}, upsert=True
        )

    async def titles(self, record_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        found: dict[uuid.UUID, str] = {}
        for record_id in record_ids:  # by _id, one at a time: the only lookup FerretDB indexes
            doc = await self._titles.find_one({"_id": str(record_id)})
            if doc:
                found[record_id] = str(doc["title"])
        return found
