"""Ingest's register of vouchers taken, one document per natural key (``contracts.records.
voucher_key``): what makes an ERP's retry answer with the record it made the first time, and
a second record under one key impossible, however many uploads race.

Each entry keeps the accepted event itself until it is published (an outbox): a crash or a
broker outage between taking the key and announcing it leaves it here, and the relay completes
it later (its invoices booked, if a crash came first) and publishes it under the same event id.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from contracts.events import DocumentIngested
from contracts.types import utc_now
from ingest.ports import KeptVoucher
from servicekit.mongo import Document


def _kept(d: Document) -> KeptVoucher:
    return KeptVoucher(
        key=d["_id"],
        document_id=uuid.UUID(d["document_id"]),
        fingerprint=d["fingerprint"],
        event=DocumentIngested.model_validate_json(d["event"]),
        published=bool(d["published"]),
        booked=bool(d.get("booked")),
    )


class VoucherKeys:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._coll = db["voucher_keys"]

    async def ensure_indexes(self) -> None:
        await self._coll.create_index([("published", 1), ("at", 1)])

    async def get(self, key: str) -> KeptVoucher | None:
        doc = await self._coll.find_one({"_id": key})
        return _kept(doc) if doc else None

    async def claim(
        self, key: str, fingerprint: str, event: DocumentIngested
    ) -> KeptVoucher | None:
        """Take the key for ``event``'s document; None if taken, else whoever holds it."""
        try:
            await self._coll.insert_one(
                {
                    "_id": key,
                    "document_id": str(event.document_id),
                    "fingerprint": fingerprint,
                    "event": event.model_dump_json(),
                    "published": False,
                    "booked": False,
                    "at": utc_now(),
                }
            )
        except DuplicateKeyError:
            return await self.get(key)
        return None

    async def release(self, key: str, document_id: uuid.UUID) -> None:
        """Give the key back: its upload was refused after all (an invoice booked meanwhile)."""
        await self._coll.delete_one({"_id": key, "document_id": str(document_id)})

    async def booked(self, key: str) -> None:
        await self._coll.update_one({"_id": key}, {"$set": {"booked": True}})

    async def published(self, key: str) -> None:
        await self._coll.update_one({"_id": key}, {"$set": {"published": True}})

    async def unpublished(self, older_than: timedelta) -> list[KeptVoucher]:
        """Taken longer ago than ``older_than`` and still not announced."""
        since = utc_now() - older_than
        cursor = self._coll.find({"published": False, "at": {"$lt": since}})
        return [_kept(d) async for d in cursor]
