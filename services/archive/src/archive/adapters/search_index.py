"""The search index: a read model of the archive's records, in an in-memory SQLite database.

Each archive process keeps this index, with what a result list shows: it is filled from the
records table at start-up, then on every accession, here or — through RecordArchived — in any
other archive process. Substring search (Chinese included) uses FTS5's trigram tokenizer, and
queries of one or two characters its own path (trigrams do not serve them). It stays in process
rather than in PostgreSQL's pg_trgm for the same reason: a GIN trigram index does not serve
2-character Chinese queries by itself.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal

from archive.domain.search import Hits, SearchCriteria, Visibility, fen
from contracts.events import RecordArchived

SCHEMA = """
CREATE TABLE records (
    n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, archive_code TEXT NOT NULL,
    fonds_code TEXT NOT NULL, fiscal_year INTEGER NOT NULL, period INTEGER,
    category TEXT NOT NULL, voucher_no TEXT, amount_fen INTEGER,
    review_required INTEGER NOT NULL, hit TEXT NOT NULL
);
CREATE INDEX records_scope ON records (fonds_code, fiscal_year, period);
CREATE INDEX records_code ON records (archive_code);
CREATE INDEX records_amount ON records (amount_fen);
CREATE TABLE invoices (
    number TEXT NOT NULL, record_id TEXT NOT NULL, PRIMARY KEY (number, record_id)
);
CREATE TABLE files (
    sha256 TEXT NOT NULL, record_id TEXT NOT NULL, PRIMARY KEY (sha256, record_id)
);
-- One row per record, with the record's n as its rowid: found and replaced by rowid, not by scan.
CREATE VIRTUAL TABLE texts USING fts5(summary, counterparties, tokenize='trigram');
"""


def _needs_escape(text: str) -> bool:
    return any(ch in text for ch in "%_\\")


def _contains(column: str, text: str) -> tuple[str, str]:
    """A LIKE condition for ``text`` anywhere in ``column``, and its argument.

    The trigram index serves LIKE only for three characters or more and without ESCAPE (and
    finds nothing for shorter ones); other searches scan the column, in C: still fast."""
    if len(text) >= 3 and not _needs_escape(text):
        return f"{column} LIKE ?", f"%{text}%"
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{column} LIKE ? ESCAPE '\\'", f"%{escaped}%"


def _hit(r: RecordArchived) -> dict[str, Any]:
    """What a result list shows; the whole record is one GET away."""
    v, m = r.voucher, r.material
    return {
        "record_id": str(r.record_id),
        "archive_code": r.archive_code,
        "fonds_code": r.fonds_code,
        "fiscal_year": r.fiscal_year,
        "period": r.period,
        "category": r.category.value,
        "voucher_no": v.voucher_no if v else None,
        "voucher_date": v.voucher_date if v else None,
        "summary": r.title if v or m else None,  # a voucher's 摘要, a material's 题名
        "amount": v.total.model_dump(mode="json") if v else None,
        "retention_until": r.retention_until.isoformat() if r.retention_until else None,
        "review_required": r.review_required,
        "invoice_numbers": [i.invoice_number for i in r.invoices],
        "counterparties": sorted({i.seller_name for i in r.invoices if i.seller_name}),
    }


class SearchIndex:
    def __init__(self) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()  # one statement at a time; each takes milliseconds
        self.ready = False

    def _add(self, records: Sequence[RecordArchived]) -> None:
        """Index records in one transaction: FTS5 merges its segments once per commit."""
        with self._lock, self._db:
            for r in records:
                self._add_one(r)

    def _add_one(self, r: RecordArchived) -> None:
        v, rid = r.voucher, str(r.record_id)
        counterparties = " ".join(
            x
            for i in r.invoices
            for x in (i.seller_name, i.seller_tax_id, i.buyer_name, i.buyer_tax_id)
            if x
        )
        row = (
            rid,
            r.archive_code,
            r.fonds_code,
            r.fiscal_year,
            r.period,
            r.category.value,
            v.voucher_no if v else None,
            fen(v.total.amount) if v else None,
            int(r.review_required),
            json.dumps(_hit(r), ensure_ascii=False),
        )
        n = self._db.execute(
            "INSERT INTO records (id, archive_code, fonds_code, fiscal_year, period, category,"
            " voucher_no, amount_fen, review_required, hit)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET hit = excluded.hit RETURNING n",
            row,
        ).fetchone()[0]
        self._db.executemany(
            "INSERT OR IGNORE INTO invoices VALUES (?, ?)",
            [(i.invoice_number, rid) for i in r.invoices],
        )
        self._db.executemany(
            "INSERT OR IGNORE INTO files VALUES (?, ?)", [(f.sha256, rid) for f in r.originals]
        )
        self._db.execute("DELETE FROM texts WHERE rowid = ?", (n,))
        self._db.execute(
            "INSERT INTO texts (rowid, summary, counterparties) VALUES (?, ?, ?)",
            (n, r.title if v or r.material else "", counterparties),
        )

    async def add(self, record: RecordArchived) -> None:
        await asyncio.to_thread(self._add, [record])

    async def fill(self, records: AsyncIterator[RecordArchived], batch: int = 500) -> int:
        """Index every stored record (at start-up), a batch per transaction; then it is ready."""
        count, pending = 0, []
        async for record in records:
            pending.append(record)
            if len(pending) == batch:
                await asyncio.to_thread(self._add, pending)
                count, pending = count + len(pending), []
        await asyncio.to_thread(self._add, pending)
        self.ready = True
        return count + len(pending)

    async def check_ready(self) -> None:
        if not self.ready:
            raise RuntimeError("the search index is still being filled")

    def _search(
        self, c: SearchCriteria, visible: Visibility, limit: int, offset: int, with_total: bool
    ) -> Hits:
        where, args = ["1 = 1"], []
        exact: dict[str, Any] = {
            "fonds_code": c.fonds_code,
            "fiscal_year": c.fiscal_year,
            "period": c.period,
            "category": c.category.value if c.category else None,
            "voucher_no": c.voucher_no,
        }
        for column, value in exact.items():
            if value is not None:
                where.append(f"{column} = ?")  # column names come from the dict above, never input
                args.append(value)
        if c.review_required is not None:
            where.append("review_required = ?")
            args.append(int(c.review_required))
        if c.amount_min is not None:
            where.append("amount_fen >= ?")
            args.append(fen(c.amount_min))
        if c.amount_max is not None:
            where.append("amount_fen <= ?")
            args.append(fen(c.amount_max))
        if c.invoice_number:
            where.append("id IN (SELECT record_id FROM invoices WHERE number = ?)")
            args.append(c.invoice_number)
        for column, text in (("summary", c.text), ("counterparties", c.counterparty)):
            if text:
                condition, arg = _contains(column, text)
                where.append(f"n IN (SELECT rowid FROM texts WHERE {condition})")  # noqa: S608
                args.append(arg)
        if not visible.all_fonds:
            marks_f = ",".join("?" * len(visible.fonds))
            marks_r = ",".join("?" * len(visible.record_ids))
            where.append(f"(fonds_code IN ({marks_f}) OR id IN ({marks_r}))")
            args += [*visible.fonds, *visible.record_ids]
        clause = " AND ".join(where)
        with self._lock:
            rows = self._db.execute(
                f"SELECT hit FROM records WHERE {clause} ORDER BY archive_code LIMIT ? OFFSET ?",  # noqa: S608
                [*args, limit + 1, offset],
            ).fetchall()
            total = (
                self._db.execute(f"SELECT count(*) FROM records WHERE {clause}", args).fetchone()[0]  # noqa: S608
                if with_total
                else None
            )
        items = [json.loads(r[0]) for r in rows]
        return Hits(items[:limit], len(items) > limit, total)

    async def search(
        self, c: SearchCriteria, visible: Visibility, limit: int, offset: int, *, with_total: bool
    ) -> Hits:
        if visible.nothing:
            return Hits([], False, 0 if with_total else None)
        return await asyncio.to_thread(self._search, c, visible, limit, offset, with_total)

    async def reviewed(self, record_id: str) -> None:
        """A held record was reviewed: it no longer shows among those awaiting review."""

        def update() -> None:
            with self._lock, self._db:
                row = self._db.execute(
                    "SELECT hit FROM records WHERE id = ?", (record_id,)
                ).fetchone()
                if row:
                    hit = {**json.loads(row[0]), "review_required": False}
                    self._db.execute(
                        "UPDATE records SET review_required = 0, hit = ? WHERE id = ?",
                        (json.dumps(hit, ensure_ascii=False), record_id),
                    )

        await asyncio.to_thread(update)

    async def versions(self, base: str) -> list[dict[str, Any]]:
        def find() -> list[dict[str, Any]]:
            with self._lock:
                rows = self._db.execute(
                    "SELECT hit FROM records WHERE archive_code = ? OR archive_code GLOB ?"
                    " ORDER BY length(archive_code), archive_code",  # V2 before V10
                    (base, f"{base}-V[0-9]*"),
                ).fetchall()
            return [json.loads(r[0]) for r in rows]

        return await asyncio.to_thread(find)

    async def holding_invoice(self, invoice_number: str) -> str | None:
        return await self._holder("invoices", "number", invoice_number)

    async def holding_file(self, sha256: str) -> str | None:
        """The record holding an original (a bank receipt, say) by its SHA-256."""
        return await self._holder("files", "sha256", sha256)

    async def _holder(
        self, table: Literal["invoices", "files"], column: str, key: str
    ) -> str | None:
        """The latest record (a correction over what it corrects) linked to ``key``."""

        def find() -> str | None:
            with self._lock:
                row = self._db.execute(
                    f"SELECT l.record_id FROM {table} l JOIN records r ON r.id = l.record_id"  # noqa: S608 - table and column are ours
                    f" WHERE l.{column} = ? ORDER BY r.n DESC LIMIT 1",
                    (key,),
                ).fetchone()
            return str(row[0]) if row else None

        return await asyncio.to_thread(find)
