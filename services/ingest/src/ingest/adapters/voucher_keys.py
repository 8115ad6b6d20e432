"""Ingest's register of vouchers taken, one row per natural key (``contracts.records.
voucher_key``): what makes an ERP's retry answer with the record it made the first time, and
a second record under one key impossible, however many uploads race. Each entry keeps the
event that announced its document, the answer to a retry; a key is taken in the unit of work
that books the voucher's invoices and publishes the event (``ingest.service``).
"""

from __future__ import annotations

from typing import Any

from contracts.events import DocumentIngested
from ingest.ports import KeptVoucher
from servicekit.database import Pool

_SELECT = "SELECT key, document_id, fingerprint, event FROM voucher_keys"


def _kept(r: dict[str, Any]) -> KeptVoucher:
    return KeptVoucher(
        key=r["key"],
        document_id=r["document_id"],
        fingerprint=r["fingerprint"],
        event=DocumentIngested.model_validate_json(r["event"]),
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
