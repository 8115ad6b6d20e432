"""Ingest's register of booked invoices: one document per invoice, keyed by its booking key.

The unique _id is what makes duplicate booking (重复入账) impossible under concurrent uploads:
of two uploads carrying the same invoice, the storage engine lets exactly one insert succeed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from contracts.types import utc_now
from ingest.ports import Booking
from servicekit.mongo import Document


class InvoiceBookings:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._coll = db["invoice_bookings"]

    async def holders(self, keys: Iterable[str]) -> dict[str, Booking]:
        """Booking key → who booked it, for those booked."""
        cursor = self._coll.find({"_id": {"$in": list(keys)}})
        return {d["_id"]: Booking(d["document_id"], d.get("fonds_code")) async for d in cursor}

    async def claim(
        self, keys: list[str], document_id: uuid.UUID, fonds_code: str
    ) -> dict[str, Booking]:
        """Book every key for the document, or none: returns the conflicts (empty on success).
        Repeat-safe: a key the document booked before counts as booked."""
        claimed: list[str] = []
        for key in keys:
            try:
                await self._coll.insert_one(
                    {
                        "_id": key,
                        "document_id": str(document_id),
                        "fonds_code": fonds_code,
                        "at": utc_now(),
                    }
                )
                claimed.append(key)
            except DuplicateKeyError:
                holder = await self.holders([key])
                if key in holder and holder[key].document_id == str(document_id):
                    continue  # booked by this document before (a retry, a completion)
                if claimed:
                    await self._coll.delete_many(
                        {"_id": {"$in": claimed}, "document_id": str(document_id)}
                    )
                return holder
        return {}
