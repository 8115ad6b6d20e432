"""Archive's own database, the register of paper archives: appended to, read by record."""

from __future__ import annotations

import uuid

from contracts.events import PaperVolumeRegistered
from servicekit.database import Pool


class PaperVolumes:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def add(self, v: PaperVolumeRegistered) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO paper_volumes (volume_id, fonds_code, fiscal_year, title, location, "
                "record_ids, registered_by, registered_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (v.volume_id, v.fonds_code, v.fiscal_year, v.title, v.location,
                 list(v.record_ids), v.registered_by, v.registered_at),
            )  # fmt: skip

    async def of_record(self, record_id: uuid.UUID) -> list[dict[str, object]]:
        """The paper volumes a record relates to, oldest first."""
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT volume_id, fiscal_year, title, location, registered_by, registered_at "
                "FROM paper_volumes WHERE record_ids @> ARRAY[%s]::uuid[] ORDER BY registered_at",
                (record_id,),
            )
            return [
                {**r, "volume_id": str(r["volume_id"]),
                 "registered_at": r["registered_at"].isoformat()}
                for r in await found.fetchall()
            ]  # fmt: skip
