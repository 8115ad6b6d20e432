"""Archive's own database: records (one per document) and the archive-code sequences."""

from __future__ import annotations

import uuid
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from contracts.events import RecordArchived
from servicekit.mongo import Document


class Records:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._records = db["records"]
        self._sequences = db["sequences"]
        self._claims = db["sequence_claims"]

    async def ensure_indexes(self) -> None:
        await self._records.create_index("archive_code", unique=True)
        await self._records.create_index([("fonds_code", 1), ("fiscal_year", 1)])
        await self._records.create_index("invoice_numbers")
        await self._records.create_index("review_required")

    async def next_sequence(self, scope: str) -> int:
        """Allocate the next item number within a scope, exactly once, without gaps.

        Each number is claimed by inserting a document whose _id is scope and number: the
        storage engine's unique key decides, so two archivers can never get the same number.
        (``findAndModify`` with ``$inc`` is not atomic on FerretDB v1's SQLite backend; this is.)
        The counter document is only a hint of where to start.
        """
        hint = await self._sequences.find_one({"_id": scope})
        number = int(hint["value"]) + 1 if hint else 1
        while True:
            try:
                await self._claims.insert_one({"_id": f"{scope}#{number:09d}", "scope": scope})
                break
            except DuplicateKeyError:
                number += 1
        await self._sequences.update_one({"_id": scope}, {"$max": {"value": number}}, upsert=True)
        return number

    async def get(self, record_id: uuid.UUID) -> RecordArchived | None:
        doc = await self._records.find_one({"_id": str(record_id)})
        return RecordArchived.model_validate_json(doc["event"]) if doc else None

    async def add(self, record: RecordArchived) -> RecordArchived:
        """Insert; if this record exists already (a redelivery), return the stored one."""
        try:
            await self._records.insert_one(
                {
                    "_id": str(record.record_id),
                    "archive_code": record.archive_code,
                    "fonds_code": record.fonds_code,
                    "fiscal_year": record.fiscal_year,
                    "category": record.category.value,
                    "archived_at": record.archived_at,
                    "review_required": record.review_required,
                    "invoice_numbers": [i.invoice_number for i in record.invoices],
                    # The fact as archived, exactly: JSON keeps Decimal and zone untouched.
                    "event": record.model_dump_json(),
                }
            )
            return record
        except DuplicateKeyError:
            stored = await self.get(record.record_id)
            if stored is None:  # the clash was on archive_code: a bug, not a redelivery
                raise
            return stored

    async def page(
        self, filters: dict[str, Any], limit: int, offset: int
    ) -> tuple[int, list[RecordArchived]]:
        total = await self._records.count_documents(filters)
        cursor = self._records.find(filters).sort("archive_code", 1).skip(offset).limit(limit)
        return total, [RecordArchived.model_validate_json(d["event"]) async for d in cursor]
