"""Archive's own database, the review part: an archivist's decision on a held record, one per
record, kept under the record's id so that of two archivists deciding at once one decides."""

from __future__ import annotations

from archive.domain.lifecycle import HoldConflict
from contracts.events import RecordReviewed
from servicekit.database import Pool


class Reviews:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def decide(self, reviewed: RecordReviewed) -> None:
        """Keep the decision unless the record was decided already (HoldConflict naming who)."""
        async with self._pool.connection() as conn:
            kept = await conn.execute(
                "INSERT INTO reviews (record_id, event) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (reviewed.record_id, reviewed.model_dump_json()),
            )
            if kept.rowcount == 1:
                return
            found = await conn.execute(
                "SELECT event FROM reviews WHERE record_id = %s", (reviewed.record_id,)
            )
            row = await found.fetchone()
        by = ""
        if row is not None:
            earlier = RecordReviewed.model_validate_json(row["event"])
            by = f" by {earlier.reviewed_by} at {earlier.reviewed_at:%Y-%m-%d %H:%M} UTC"
        raise HoldConflict(f"{reviewed.archive_code} was reviewed already{by}")
