"""Archive's own database, the legal-hold part: each record's holds as an append-only log of
changes, numbered per record; the latest change is the record's state.

Of two changes made at once from one state (two archivists placing a hold, two releasing it),
the log's primary key lets one in: the other is refused. The log is also the hold's history.
The change and the record's own field (what appraisal queries read) are written together.
"""

from __future__ import annotations

import uuid

from psycopg import errors

from archive.adapters.records import hold_of, hold_value
from archive.domain.lifecycle import HoldConflict, LegalHold
from servicekit.database import Pool, transaction


class Holds:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def current(self, record_id: uuid.UUID) -> tuple[int, LegalHold | None]:
        """(the number of the latest change, the hold it leaves; None: not on hold)."""
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT n, hold FROM hold_changes WHERE record_id = %s ORDER BY n DESC LIMIT 1",
                (record_id,),
            )
            row = await found.fetchone()
        return (int(row["n"]), hold_of(row["hold"])) if row else (0, None)

    async def change(self, record_id: uuid.UUID, after: int, hold: LegalHold | None) -> None:
        """Append the change that follows change ``after``: HoldConflict if another came first."""
        try:
            async with transaction(self._pool) as conn:
                await conn.execute(
                    "INSERT INTO hold_changes (record_id, n, hold) VALUES (%s, %s, %s)",
                    (record_id, after + 1, hold_value(hold)),
                )
                await conn.execute(
                    "UPDATE records SET legal_hold = %s WHERE record_id = %s",
                    (hold_value(hold), record_id),
                )
        except errors.UniqueViolation as error:
            raise HoldConflict("the record's legal hold was changed meanwhile") from error
