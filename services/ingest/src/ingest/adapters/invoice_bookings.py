"""Ingest's register of booked invoices: one row per invoice, keyed by its booking key.

The primary key is what makes duplicate booking (重复入账) impossible under concurrent uploads:
of two uploads carrying the same invoice, exactly one insert gets in. A document's keys are
booked in one transaction: all of them, or none.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from psycopg import Rollback

from ingest.ports import Booking
from servicekit.database import Pool, transaction


class InvoiceBookings:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def holders(self, keys: Iterable[str]) -> dict[str, Booking]:
        """Booking key → who booked it, for those booked."""
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT key, document_id, fonds_code FROM invoice_bookings WHERE key = ANY(%s)",
                (list(keys),),
            )
            return {
                r["key"]: Booking(str(r["document_id"]), r["fonds_code"])
                for r in await found.fetchall()
            }

    async def claim(
        self, keys: list[str], document_id: uuid.UUID, fonds_code: str
    ) -> dict[str, Booking]:
        """Book every key for the document, or none: returns the conflicts (empty on success).
        Repeat-safe: a key the document booked before counts as booked."""
        conflicts: dict[str, Booking] = {}
        async with transaction(self._pool) as conn:
            for key in sorted(keys):  # one order for every document: no deadlock between two
                await conn.execute(
                    "INSERT INTO invoice_bookings (key, document_id, fonds_code) "
                    "VALUES (%s, %s, %s) ON CONFLICT (key) DO NOTHING",
                    (key, document_id, fonds_code),
                )
            # Read after the inserts: a row another transaction inserted meanwhile is seen once
            # it commits (the insert above waited for it).
            found = await conn.execute(
                "SELECT key, document_id, fonds_code FROM invoice_bookings WHERE key = ANY(%s)",
                (keys,),
            )
            holders = {
                r["key"]: Booking(str(r["document_id"]), r["fonds_code"])
                for r in await found.fetchall()
            }
            conflicts = {k: b for k, b in holders.items() if b.document_id != str(document_id)}
            if conflicts:
                raise Rollback  # none of this document's keys is kept
        return conflicts
