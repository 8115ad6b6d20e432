"""Ingest's register of vouchers taken, one row per natural key (``contracts.records.
voucher_key``): what makes an ERP's retry answer with the record it made the first time, and
a second record under one key impossible, however many uploads race.

Each entry keeps the accepted event itself until it is published (an outbox): a crash or a
broker outage between taking the key and announcing it leaves it here, and the relay completes
it later (its invoices booked, if a crash came first) and publishes it under the same event id.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from contracts.events import DocumentIngested
from contracts.types import utc_now
from ingest.ports import KeptVoucher
from servicekit.database import Pool

_SELECT = "SELECT key, document_id, fingerprint, event, published, booked FROM voucher_keys"


def _kept(r: dict[str, Any]) -> KeptVoucher:
    return KeptVoucher(
        key=r["key"],
        document_id=r["document_id"],
        fingerprint=r["fingerprint"],
        event=DocumentIngested.model_validate_json(r["event"]),
        published=r["published"],
        booked=r["booked"],
    )


class VoucherKeys:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def get(self, key: str) -> KeptVoucher | None:
        async with self._pool.connection() as conn:
            found = await conn.execute(_SELECT + " WHERE key = %s", (key,))
            row = await found.fetchone()
        return _kept(row) if row else None

    async def claim(
        self, key: str, fingerprint: str, event: DocumentIngested
    ) -> KeptVoucher | None:
        """Take the key for ``event``'s document; None if taken, else whoever holds it."""
        async with self._pool.connection() as conn:
            taken = await conn.execute(
                "INSERT INTO voucher_keys (key, document_id, fingerprint, event) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (key) DO NOTHING",
                (key, event.document_id, fingerprint, event.model_dump_json()),
            )
            if taken.rowcount == 1:
                return None
        return await self.get(key)

    async def release(self, key: str, document_id: uuid.UUID) -> None:
        """Give the key back: its upload was refused after all (an invoice booked meanwhile)."""
        async with self._pool.connection() as conn:
            await conn.execute(
                "DELETE FROM voucher_keys WHERE key = %s AND document_id = %s", (key, document_id)
            )

    async def booked(self, key: str) -> None:
        async with self._pool.connection() as conn:
            await conn.execute("UPDATE voucher_keys SET booked = true WHERE key = %s", (key,))

    async def published(self, key: str) -> None:
        async with self._pool.connection() as conn:
            await conn.execute("UPDATE voucher_keys SET published = true WHERE key = %s", (key,))

    async def unpublished(self, older_than: timedelta) -> list[KeptVoucher]:
        """Taken longer ago than ``older_than`` and still not announced."""
        async with self._pool.connection() as conn:
            found = await conn.execute(
                _SELECT + " WHERE NOT published AND taken_at < %s",
                (utc_now() - older_than,),
            )
            return [_kept(r) for r in await found.fetchall()]
