"""What the approval service learned of archived records, from ``RecordArchived``: the fonds each
is of (a request names records of its own fonds only), and how an OA's form names them (档号 and
摘要), not an id a reader cannot look up. It asks no other service's database."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from contracts.events import RecordArchived
from servicekit.database import Pool


def title_of(record: RecordArchived) -> str:
    return f"{record.archive_code} {record.title}"


class RecordTitles:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def learn(self, record: RecordArchived) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO record_titles (record_id, title, fonds_code) VALUES (%s, %s, %s) "
                "ON CONFLICT (record_id) DO UPDATE SET title = excluded.title, "
                "fonds_code = excluded.fonds_code",
                (record.record_id, title_of(record), record.fonds_code),
            )

    async def titles(self, record_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        return {r: str(row["title"]) for r, row in (await self._known(record_ids)).items()}

    async def fonds_of(self, record_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        return {r: str(row["fonds_code"]) for r, row in (await self._known(record_ids)).items()}

    async def _known(self, record_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Any]:
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT record_id, title, fonds_code FROM record_titles WHERE record_id = ANY(%s)",
                (list(record_ids),),
            )
            return {r["record_id"]: r for r in await found.fetchall()}
