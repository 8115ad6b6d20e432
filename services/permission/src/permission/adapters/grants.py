"""Permission's own database: grants, and each record's fonds (learned from RecordArchived)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from permission.domain.access import Grant
from servicekit.database import Pool

_SELECT = (
    "SELECT grant_id, principal, actions, fonds_code, record_ids, valid_from, valid_until, "
    "request_id, revoked_at FROM grants WHERE "
)


def _grant(r: dict[str, Any]) -> Grant:
    return Grant(
        grant_id=r["grant_id"],
        user=r["principal"],
        actions=tuple(r["actions"]),
        fonds_code=r["fonds_code"],
        record_ids=tuple(r["record_ids"]),
        valid_from=r["valid_from"],
        valid_until=r["valid_until"],
        request_id=r["request_id"],
        revoked_at=r["revoked_at"],
    )


RECORDS_KEPT = 200_000  # record → fonds pairs kept in memory


class Grants:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        # A record's fonds never changes once archived: kept in memory once known.
        self._fonds: dict[uuid.UUID, str] = {}

    async def _grants(self, where: str, *args: Any) -> list[Grant]:
        async with self._pool.connection() as conn:
            found = await conn.execute(_SELECT + where, args)  # ``where``: this module's
            return [_grant(r) for r in await found.fetchall()]

    async def add(self, g: Grant) -> None:
        """Insert by grant id: a redelivered approval leaves one grant."""
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO grants (grant_id, principal, actions, fonds_code, record_ids, "
                "valid_from, valid_until, request_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (grant_id) DO NOTHING",
                (g.grant_id, g.user, list(g.actions), g.fonds_code, list(g.record_ids),
                 g.valid_from, g.valid_until, g.request_id),
            )  # fmt: skip

    async def get(self, grant_id: uuid.UUID) -> Grant | None:
        found = await self._grants("grant_id = %s", grant_id)
        return found[0] if found else None

    async def for_user_record(self, user: str, record_id: uuid.UUID) -> list[Grant]:
        return await self._grants("principal = %s AND %s = ANY(record_ids)", user, record_id)

    async def for_user(self, user: str) -> list[Grant]:
        return await self._grants("principal = %s ORDER BY valid_from DESC", user)

    async def due_for_revocation(self, now: datetime) -> list[Grant]:
        return await self._grants("revoked_at IS NULL AND valid_until <= %s", now)

    async def mark_revoked(self, grant_id: uuid.UUID, at: datetime) -> bool:
        async with self._pool.connection() as conn:
            done = await conn.execute(
                "UPDATE grants SET revoked_at = %s WHERE grant_id = %s AND revoked_at IS NULL",
                (at, grant_id),
            )
            return done.rowcount == 1

    async def remember_record(self, record_id: uuid.UUID, fonds_code: str) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO record_scopes (record_id, fonds_code) VALUES (%s, %s) "
                "ON CONFLICT (record_id) DO UPDATE SET fonds_code = excluded.fonds_code",
                (record_id, fonds_code),
            )

    async def fonds_of(self, record_id: uuid.UUID) -> str | None:
        if (known := self._fonds.get(record_id)) is not None:
            return known
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT fonds_code FROM record_scopes WHERE record_id = %s", (record_id,)
            )
            row = await found.fetchone()
        if row is None:
            return None  # not yet heard of: asked again next time
        if len(self._fonds) >= RECORDS_KEPT:
            self._fonds.clear()
        self._fonds[record_id] = row["fonds_code"]
        return str(row["fonds_code"])
