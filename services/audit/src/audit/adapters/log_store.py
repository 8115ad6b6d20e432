"""Audit's own database: the entries, append-only (the runtime role may only insert and read,
and triggers refuse any change or deletion).

Each entry is kept exactly as hashed (``entry``, JSON text), beside the fields it is queried
by. Queries take the filters of ``ports.LogStore.query``: a field (``event_type``, ``actor``,
``time``, ``record_ids``, ``fonds_codes`` or ``data.<name>``) and a value, ``{"$in": [...]}``
or a range ``{"$gte": ..., "$lt": ...}``; for ``record_ids`` and ``fonds_codes`` a value is one
the entry's list holds.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from psycopg import errors
from psycopg.types.json import Jsonb

from servicekit.database import Pool, transaction

_COLUMNS = {"event_type", "actor", "time"}
_LISTS = {"record_ids", "fonds_codes"}


def _searchable(data: Any) -> Any:
    """The data as jsonb can hold it: a NUL character (which jsonb refuses) becomes U+FFFD in
    this copy only; the entry itself keeps it."""
    return json.loads(json.dumps(data, ensure_ascii=False).replace("\\u0000", "\ufffd"))


_OPERATORS = {"$eq": "= %s", "$in": "= ANY(%s)", "$gte": ">= %s", "$lt": "< %s"}


def _where(filters: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """SQL conditions and their parameters; field names come from the sets above only."""
    conditions: list[str] = []
    args: list[Any] = []
    for name, wanted in filters.items():
        if name in _LISTS:
            values = wanted["$in"] if isinstance(wanted, dict) else [wanted]
            conditions.append(f"{name} && %s::text[]")
            args.append([str(v) for v in values])
            continue
        if name in _COLUMNS:
            column, column_args = name, []
        elif name.startswith("data.") and name[5:].isidentifier():
            column, column_args = "data ->> %s", [name[5:]]
        else:
            raise ValueError(f"the audit log is not queried by {name!r}")
        for op, value in (wanted if isinstance(wanted, dict) else {"$eq": wanted}).items():
            conditions.append(f"{column} {_OPERATORS[op]}")
            args += [*column_args, [str(v) for v in value] if op == "$in" else str(value)]
    return conditions, args


_INSERT = (
    "INSERT INTO entries (seq, event_id, event_type, actor, time, record_ids, fonds_codes, data, "
    "entry) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def _row(e: dict[str, Any]) -> tuple[Any, ...]:
    return (e["seq"], e["event_id"], e["event_type"], e.get("actor"), e["time"],
            [str(r) for r in e["record_ids"]], list(e["fonds_codes"]),
            Jsonb(_searchable(e["data"])), json.dumps(e, ensure_ascii=False))  # fmt: skip


class LogStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def _entries(self, where: str, args: Sequence[Any], tail: str = "") -> list[Any]:
        async with self._pool.connection() as conn:
            # ``where`` is built of this module's constants (``_where``); values are parameters.
            query = f"SELECT entry FROM entries WHERE {where} {tail}"  # noqa: S608
            found = await conn.execute(query, args)
            return [json.loads(r["entry"]) for r in await found.fetchall()]

    async def head(self) -> dict[str, Any] | None:
        found = await self._entries("true", (), "ORDER BY seq DESC LIMIT 1")
        return found[0] if found else None

    async def has_event(self, event_id: str) -> bool:
        return bool(await self.events_present([event_id]))

    async def events_present(self, event_ids: list[str]) -> set[str]:
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT event_id FROM entries WHERE event_id = ANY(%s)", (event_ids,)
            )
            return {r["event_id"] for r in await found.fetchall()}

    async def fonds_of_records(self, record_ids: list[str]) -> list[str]:
        """The fonds of earlier entries about these records (their archiving, their intake)."""
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT DISTINCT unnest(fonds_codes) AS fonds FROM ("
                " SELECT fonds_codes FROM entries WHERE record_ids && %s::text[]"
                " AND cardinality(fonds_codes) > 0 LIMIT 100) AS about",
                (record_ids,),
            )
            return sorted(r["fonds"] for r in await found.fetchall())

    async def append(self, entries: Sequence[dict[str, Any]]) -> int:
        """Stores the entries in order up to the first clash; how many it stored. A batch goes
        in one transaction, its inserts pipelined; only a batch that clashes (a redelivery) is
        written again entry by entry, a savepoint each, up to the clash."""
        rows = [_row(e) for e in entries]
        try:
            async with transaction(self._pool) as conn, conn.cursor() as cursor:
                await cursor.executemany(_INSERT, rows)
            return len(rows)
        except errors.UniqueViolation:
            pass
        stored = 0
        async with transaction(self._pool) as conn:
            for row in rows:
                try:
                    async with conn.transaction():
                        await conn.execute(_INSERT, row)
                except errors.UniqueViolation:
                    return stored
                stored += 1
        return stored

    async def query(
        self, filters: dict[str, Any], after_seq: int, limit: int
    ) -> list[dict[str, Any]]:
        conditions, args = _where(filters)
        where = " AND ".join(["seq > %s", *conditions])
        return await self._entries(where, [after_seq, *args, limit], "ORDER BY seq LIMIT %s")

    async def all_in_order(self, batch: int = 1000) -> AsyncIterator[dict[str, Any]]:
        after = 0
        while True:
            page = await self.query({}, after, batch)
            for d in page:
                yield d
            if len(page) < batch:
                return
            after = int(page[-1]["seq"])
