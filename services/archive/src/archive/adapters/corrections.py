"""Archive's own database, the corrections waiting for the voucher they name, and the link made
once it is archived (a column of the record, beside the fact as archived)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from psycopg.types.json import Jsonb

from archive.domain.corrections import WaitingCorrection
from contracts.records import CorrectionKind, CorrectionLink
from servicekit.database import Pool


class WaitingCorrections:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def wait(self, waiting: WaitingCorrection) -> None:
        """Keep a correction waiting for the voucher it names (repeat-safe)."""
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO corrections_waiting (key, fonds_code, record_id, kind) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (waiting.key, waiting.fonds_code, waiting.record_id, waiting.kind.value),
            )

    async def waiting_for(self, keys: Sequence[str], fonds_code: str) -> list[WaitingCorrection]:
        """The corrections of ``fonds_code`` that name a voucher by one of ``keys``."""
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT key, fonds_code, record_id, kind FROM corrections_waiting "
                "WHERE key = ANY(%s) AND fonds_code = %s",
                (list(keys), fonds_code),
            )
            rows = await found.fetchall()
        return [
            WaitingCorrection(r["key"], r["fonds_code"], r["record_id"], CorrectionKind(r["kind"]))
            for r in rows
        ]

    async def link(self, correction: uuid.UUID, link: CorrectionLink) -> bool:
        """Link a correction to the record it corrects, once: False if it was linked before.
        It no longer waits either way."""
        async with self._pool.connection() as conn:
            linked = await conn.execute(
                "UPDATE records SET corrects = %s, corrects_link = %s "
                "WHERE record_id = %s AND corrects IS NULL",
                (link.record_id, Jsonb(link.model_dump(mode="json")), correction),
            )
            await conn.execute(
                "DELETE FROM corrections_waiting WHERE record_id = %s", (correction,)
            )
            return linked.rowcount == 1
