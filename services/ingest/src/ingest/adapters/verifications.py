"""Ingest's register of 查验 (``invoice_verifications``): the latest answer per document and
invoice, and the invoices still to be asked, taken by one replica at a time (SKIP LOCKED)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from psycopg.types.json import Jsonb

from contracts.records import InvoiceStatus, InvoiceVerification
from ingest.ports import InvoiceQuery, Verification
from servicekit.database import Pool

COLUMNS = (
    "document_id, booking_key, fonds_code, query, status, detail, provider, checked_at, "
    "attempts, next_at"
)


class Verifications:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def record(self, v: Verification) -> None:
        q, answer = v.query, v.verification
        query = {
            "number": q.number,
            "code": q.code,
            "issue_date": q.issue_date,
            "total": str(q.total),
            "seller_tax_id": q.seller_tax_id,
            "check_code": q.check_code,
        }
        async with self._pool.connection() as conn:
            await conn.execute(
                f"INSERT INTO invoice_verifications ({COLUMNS}) "  # noqa: S608 - constant columns
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (document_id, booking_key) DO UPDATE SET status = EXCLUDED.status, "
                "detail = EXCLUDED.detail, provider = EXCLUDED.provider, "
                "checked_at = EXCLUDED.checked_at, attempts = EXCLUDED.attempts, "
                "next_at = EXCLUDED.next_at",
                (
                    v.document_id, v.booking_key, v.fonds_code, Jsonb(query),
                    answer.status.value, answer.detail, answer.provider, answer.checked_at,
                    v.attempts, v.next_at,
                ),
            )  # fmt: skip

    async def due(self, now: datetime, limit: int) -> list[Verification]:
        async with self._pool.connection() as conn:
            rows = await conn.execute(
                f"SELECT {COLUMNS} FROM invoice_verifications "  # noqa: S608 - constant columns
                "WHERE next_at IS NOT NULL AND next_at <= %s "
                "ORDER BY next_at LIMIT %s FOR UPDATE SKIP LOCKED",
                (now, limit),
            )
            return [_verification(r) for r in await rows.fetchall()]

    async def listing(
        self, fonds_codes: Iterable[str] | None, unanswered_only: bool
    ) -> list[Verification]:
        where, args = ["TRUE"], []
        if fonds_codes is not None:
            where.append("fonds_code = ANY(%s)")
            args.append(list(fonds_codes))
        if unanswered_only:
            where.append("next_at IS NOT NULL")
        async with self._pool.connection() as conn:
            rows = await conn.execute(
                f"SELECT {COLUMNS} FROM invoice_verifications "  # noqa: S608 - constant parts
                f"WHERE {' AND '.join(where)} "
                "ORDER BY checked_at DESC LIMIT 1000",
                args,
            )
            return [_verification(r) for r in await rows.fetchall()]


def _verification(r: dict[str, Any]) -> Verification:
    q = r["query"]
    return Verification(
        document_id=r["document_id"],
        fonds_code=r["fonds_code"],
        booking_key=r["booking_key"],
        query=InvoiceQuery(
            q["number"],
            q["code"],
            q["issue_date"],
            Decimal(q["total"]),
            q["seller_tax_id"],
            q.get("check_code"),  # absent from what was asked before 校验码 were read
        ),
        verification=InvoiceVerification(
            status=InvoiceStatus(r["status"]),
            detail=r["detail"],
            provider=r["provider"],
            checked_at=r["checked_at"],
        ),
        attempts=r["attempts"],
        next_at=r["next_at"],
    )
