"""Ingest's register of booked invoices: one row per invoice and party, keyed by its booking
key (``contracts.records.invoice_booking_key``: the invoice and the booking party's tax id).

The primary key is what makes duplicate booking (重复入账) impossible under concurrent uploads:
of two uploads carrying the same invoice for the same party, exactly one insert gets in. A
document's keys are booked in one transaction: all of them, or none. A row booked before keys
named the party (the invoice alone) stands against every party's booking of that invoice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from psycopg import AsyncConnection, Rollback

from contracts.records import invoice_of
from ingest.ports import Booking
from servicekit.database import Pool, transaction


class InvoiceBookings:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def holders(self, keys: Iterable[str]) -> dict[str, Booking]:
        """Booking key → who booked it, for those booked (by that key, or before keys named
        the party, by its invoice alone)."""
        async with self._pool.connection() as conn:
            return await _holders(conn, list(keys))

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
            holders = await _holders(conn, keys)
            conflicts = {k: b for k, b in holders.items() if b.document_id != str(document_id)}
            if conflicts:
                raise Rollback  # none of this document's keys is kept
        return conflicts


async def _holders(conn: AsyncConnection[Any], keys: list[str]) -> dict[str, Booking]:
    legacy = {invoice_of(k): k for k in keys}
    found = await conn.execute(
        "SELECT key, document_id, fonds_code FROM invoice_bookings "
        "WHERE key = ANY(%s) OR key = ANY(%s)",
        (keys, list(legacy)),
    )
    holders: dict[str, Booking] = {}
    for r in await found.fetchall():
        booking = Booking(str(r["document_id"]), r["fonds_code"])
        if r["key"] in keys:
            holders[r["key"]] = booking
        else:  # the invoice alone, booked before keys named the party: every party's key
            holders.update({k: booking for k in keys if invoice_of(k) == r["key"]})
    return holders
