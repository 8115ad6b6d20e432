"""What the approval service learned of archived records, from ``RecordArchived``: the fonds each
is of (a request names records of its own fonds only), and how an OA's form names them (档号 and
摘要), not an id a reader cannot look up. It asks no other service's database."""

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
        known = {"title": title_of(record), "fonds_code": record.fonds_code}
        await self._titles.update_one({"_id": str(record.record_id)}, {"$set": known}, upsert=True)

    async def titles(self, record_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        return {r: str(doc["title"]) for r, doc in (await self._known(record_ids)).items()}

    async def fonds_of(self, record_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        return {
            r: str(doc["fonds_code"])
            for r, doc in (await self._known(record_ids)).items()
            if doc.get("fonds_code")  # learned before the fonds was kept: learned again
        }

    async def _known(self, record_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Document]:
        found: dict[uuid.UUID, Document] = {}
        for record_id in record_ids:  # by _id, one at a time: the only lookup FerretDB indexes
            doc = await self._titles.find_one({"_id": str(record_id)})
            if doc:
                found[record_id] = doc
        return found
