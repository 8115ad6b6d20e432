"""Archive's own database: OA approval records' data, the business keys vouchers and approval
records meet by, the links made, and the vouchers waiting for theirs."""

from __future__ import annotations

import uuid

from psycopg.types.json import Jsonb

from archive.domain.approval_record import Waiting
from contracts.events import ApprovalRecordLinked, OaApprovalCompleted
from servicekit.database import Pool


class ApprovalLinksStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def keep_approval(self, record_id: uuid.UUID, approval: OaApprovalCompleted) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO approval_records (record_id, approval) VALUES (%s, %s) "
                "ON CONFLICT DO NOTHING",
                (record_id, approval.model_dump_json()),
            )

    async def approval(self, record_id: uuid.UUID) -> OaApprovalCompleted | None:
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT approval FROM approval_records WHERE record_id = %s", (record_id,)
            )
            row = await found.fetchone()
        return OaApprovalCompleted.model_validate_json(row["approval"]) if row else None

    async def meet(self, key: str, side: str, record_id: uuid.UUID, other: str) -> list[uuid.UUID]:
        """Put the record on its side of the key, then read the other side. The insert commits
        before the read: of two records arriving at once on either side, the later reader sees
        the earlier one."""
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO approval_link_keys (key, side, record_id) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (key, side, record_id),
            )
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT record_id FROM approval_link_keys WHERE key = %s AND side = %s "
                "ORDER BY record_id",
                (key, other),
            )
            return [r["record_id"] for r in await found.fetchall()]

    async def link(self, link: ApprovalRecordLinked) -> None:
        entry = Jsonb(link.model_dump(mode="json"))
        pair = f"{link.voucher_record_id}|{link.approval_record_id}"
        async with self._pool.connection() as conn:
            for record_id in (link.voucher_record_id, link.approval_record_id):
                await conn.execute(
                    "INSERT INTO approval_links (record_id, pair, link) VALUES (%s, %s, %s) "
                    "ON CONFLICT DO NOTHING",
                    (record_id, pair, entry),
                )

    async def links_of(self, record_id: uuid.UUID) -> list[ApprovalRecordLinked]:
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT link FROM approval_links WHERE record_id = %s ORDER BY pair", (record_id,)
            )
            return [ApprovalRecordLinked.model_validate(r["link"]) for r in await found.fetchall()]

    async def await_approval(self, waiting: Waiting) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO awaiting_approval (record_id, fonds_code, archive_code, voucher_no, "
                "summary, since) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (waiting.record_id, waiting.fonds_code, waiting.archive_code, waiting.voucher_no,
                 waiting.summary, waiting.since),
            )  # fmt: skip

    async def arrived(self, voucher_id: uuid.UUID) -> None:
        async with self._pool.connection() as conn:
            await conn.execute("DELETE FROM awaiting_approval WHERE record_id = %s", (voucher_id,))

    async def waiting(self, fonds_code: str) -> list[Waiting]:
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT * FROM awaiting_approval WHERE fonds_code = %s ORDER BY archive_code",
                (fonds_code,),
            )
            return [Waiting(**r) for r in await found.fetchall()]
