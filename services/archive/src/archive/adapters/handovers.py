"""Archive's own database, the handover part: open marks, started handovers, record claims, bound
volumes, custody extensions and offers.

Two guarantees rest on primary keys:
- one handover of a fonds and year under way at once: the open mark, keyed by fonds and year,
  is taken *before* the records are read, so two requests can never hand over the same reading;
  a mark left by a crashed process is taken over by one conditional update, which one taker wins;
- a record in at most one handover: each record is claimed under its own id, all of a handover's
  in one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb

from archive.domain.lifecycle import HandoverOffer, HandoverRefused
from archive.domain.volumes import BoundVolume
from contracts.events import RecordsHandedOver
from contracts.types import utc_now
from servicekit.database import Pool, transaction


def _under_way(fonds_code: str, fiscal_year: int) -> HandoverRefused:
    return HandoverRefused(f"a handover of {fonds_code}|{fiscal_year} is already under way")


def _volume(v: dict[str, Any]) -> BoundVolume:
    return BoundVolume(**(v | {"record_ids": tuple(v["record_ids"])}))


class Handovers:
    def __init__(self, pool: Pool, mark_lease: timedelta) -> None:
        """``mark_lease``: how long an open mark with no handover kept under it holds; past it,
        the mark is taken to be left by a crashed process and may be taken over."""
        self._pool = pool
        self._lease = mark_lease

    async def open(self, fonds_code: str, fiscal_year: int, handover_id: uuid.UUID) -> None:
        async with self._pool.connection() as conn:
            taken = await conn.execute(
                "INSERT INTO open_handovers (fonds_code, fiscal_year, handover_id, taken_at) "
                "VALUES (%s, %s, %s, now()) ON CONFLICT DO NOTHING",
                (fonds_code, fiscal_year, handover_id),
            )
            if taken.rowcount == 1:
                return
            # Past its lease with no unfinished handover kept under it: its process died
            # before starting. Of the takers, the update that gets in first wins.
            taken_over = await conn.execute(
                "UPDATE open_handovers o SET handover_id = %s, taken_at = now() "
                "WHERE fonds_code = %s AND fiscal_year = %s AND taken_at <= %s "
                "AND NOT EXISTS (SELECT 1 FROM handovers h "
                "WHERE h.handover_id = o.handover_id AND NOT h.done)",
                (handover_id, fonds_code, fiscal_year, utc_now() - self._lease),
            )
            if taken_over.rowcount == 0:
                raise _under_way(fonds_code, fiscal_year)

    async def close(self, fonds_code: str, fiscal_year: int, handover_id: uuid.UUID) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "DELETE FROM open_handovers WHERE fonds_code = %s AND fiscal_year = %s "
                "AND handover_id = %s",
                (fonds_code, fiscal_year, handover_id),
            )

    async def start(self, handover: RecordsHandedOver, volumes: list[BoundVolume]) -> None:
        """Kept with every record claimed for it, in one transaction: a crash midway leaves
        it to be completed as it was started. HandoverRefused if another holds a record."""
        async with transaction(self._pool) as conn:
            await conn.execute(
                "INSERT INTO handovers (handover_id, fonds_code, fiscal_year, event, volumes) "
                "VALUES (%s, %s, %s, %s, %s)",
                (handover.handover_id, handover.fonds_code, handover.fiscal_year,
                 handover.model_dump_json(), Jsonb([asdict(v) for v in volumes])),
            )  # fmt: skip
            await self._claim(conn, handover)

    async def claim(self, handover: RecordsHandedOver) -> None:
        """Claim every record of ``handover`` for it; repeat-safe. HandoverRefused naming the
        first record another handover holds."""
        async with transaction(self._pool) as conn:
            await self._claim(conn, handover)

    async def _claim(self, conn: Any, handover: RecordsHandedOver) -> None:
        ids = sorted(handover.record_ids)  # one order for every handover: no deadlock
        await conn.execute(
            "INSERT INTO handover_claims (record_id, handover_id) "
            "SELECT unnest(%s::uuid[]), %s ON CONFLICT DO NOTHING",
            (ids, handover.handover_id),
        )
        held = await conn.execute(
            "SELECT record_id, handover_id FROM handover_claims "
            "WHERE record_id = ANY(%s) AND handover_id <> %s ORDER BY record_id LIMIT 1",
            (ids, handover.handover_id),
        )
        if (other := await held.fetchone()) is not None:
            raise HandoverRefused(
                f"record {other['record_id']} is already in handover {other['handover_id']}"
            )

    async def unfinished(
        self, fonds_code: str | None = None, fiscal_year: int | None = None
    ) -> list[tuple[RecordsHandedOver, list[BoundVolume]]]:
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT event, volumes FROM handovers WHERE NOT done AND (%(fonds)s::text IS NULL "
                "OR (fonds_code = %(fonds)s AND fiscal_year = %(year)s))",
                {"fonds": fonds_code, "year": fiscal_year},
            )
            rows = await found.fetchall()
        return [
            (RecordsHandedOver.model_validate_json(r["event"]), [_volume(v) for v in r["volumes"]])
            for r in rows
        ]

    async def bind(self, handover: RecordsHandedOver, volumes: list[BoundVolume]) -> None:
        """Bind the handover's volumes under their numbers; repeat-safe. A number bound by
        another handover is a conflict, never silently shared."""
        async with transaction(self._pool) as conn:
            for v in volumes:
                await conn.execute(
                    "INSERT INTO volumes (fonds_code, fiscal_year, number, period, "
                    "retention_code, record_ids, handover_id) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT DO NOTHING",
                    (handover.fonds_code, v.fiscal_year, v.number, v.period, v.retention_code,
                     [uuid.UUID(r) for r in v.record_ids], handover.handover_id),
                )  # fmt: skip
                bound = await conn.execute(
                    "SELECT handover_id FROM volumes WHERE fonds_code = %s AND fiscal_year = %s "
                    "AND number = %s",
                    (handover.fonds_code, v.fiscal_year, v.number),
                )
                row = await bound.fetchone()
                if row is None or row["handover_id"] != handover.handover_id:
                    key = f"{handover.fonds_code}|{v.fiscal_year}|{v.number}"
                    raise HandoverRefused(f"volume {key} is bound by another handover")

    async def finish(self, handover: RecordsHandedOver) -> None:
        async with transaction(self._pool) as conn:
            await conn.execute(
                "UPDATE handovers SET done = true WHERE handover_id = %s", (handover.handover_id,)
            )
            await conn.execute(
                "DELETE FROM open_handovers WHERE fonds_code = %s AND fiscal_year = %s "
                "AND handover_id = %s",
                (handover.fonds_code, handover.fiscal_year, handover.handover_id),
            )

    async def bound_volumes(self, fonds_code: str, fiscal_year: int) -> list[BoundVolume]:
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT number, fiscal_year, period, retention_code, record_ids FROM volumes "
                "WHERE fonds_code = %s AND fiscal_year = %s ORDER BY number",
                (fonds_code, fiscal_year),
            )
            return [
                BoundVolume(r["number"], r["fiscal_year"], r["period"], r["retention_code"],
                            tuple(str(i) for i in r["record_ids"]))
                for r in await found.fetchall()
            ]  # fmt: skip

    async def custody_extensions(self, fonds_code: str) -> dict[int, int]:
        """Fiscal year → years of temporary custody consented beyond the first."""
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT fiscal_year, extended_years FROM custody_extensions WHERE fonds_code = %s",
                (fonds_code,),
            )
            return {int(r["fiscal_year"]): int(r["extended_years"]) for r in await found.fetchall()}

    async def extend_custody(self, extension: dict[str, Any]) -> bool:
        """Record a consent that extends custody further than any before it; False if another,
        reaching as far or further, came first (one statement: no check-then-write)."""
        async with self._pool.connection() as conn:
            kept = await conn.execute(
                "INSERT INTO custody_extensions (fonds_code, fiscal_year, extended_years, consent) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (fonds_code, fiscal_year) DO UPDATE "
                "SET extended_years = excluded.extended_years, consent = excluded.consent "
                "WHERE custody_extensions.extended_years < excluded.extended_years",
                (extension["fonds_code"], extension["fiscal_year"], extension["extended_years"],
                 Jsonb(extension)),
            )  # fmt: skip
            return kept.rowcount == 1

    async def offer(self, offer: HandoverOffer) -> HandoverOffer:
        """The open offer of the fonds and year: this one, or the one made before it."""
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO handover_offers (offer_id, fonds_code, fiscal_year, offered_by, "
                "offered_at, supervised_by) VALUES (%s, %s, %s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (offer.offer_id, offer.fonds_code, offer.fiscal_year, offer.offered_by,
                 offer.offered_at, offer.supervised_by),
            )  # fmt: skip
            found = await conn.execute(
                "SELECT * FROM handover_offers WHERE fonds_code = %s AND fiscal_year = %s "
                "AND handover_id IS NULL",
                (offer.fonds_code, offer.fiscal_year),
            )
            row = await found.fetchone()
        return _offer(row) if row else offer

    async def offer_of(self, offer_id: uuid.UUID) -> HandoverOffer | None:
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT * FROM handover_offers WHERE offer_id = %s", (offer_id,)
            )
            row = await found.fetchone()
        return _offer(row) if row else None

    async def accepted(self, offer_id: uuid.UUID, handover_id: uuid.UUID) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE handover_offers SET handover_id = %s WHERE offer_id = %s",
                (handover_id, offer_id),
            )

    async def supervised(self, offer_id: uuid.UUID, by: str, at: datetime) -> bool:
        async with self._pool.connection() as conn:
            noted = await conn.execute(
                "UPDATE handover_offers SET supervised_at = %s WHERE offer_id = %s "
                "AND supervised_by = %s AND supervised_at IS NULL AND handover_id IS NULL",
                (at, offer_id, by),
            )
        return noted.rowcount == 1


def _offer(r: dict[str, Any]) -> HandoverOffer:
    return HandoverOffer(
        offer_id=r["offer_id"],
        fonds_code=r["fonds_code"],
        fiscal_year=r["fiscal_year"],
        offered_by=r["offered_by"],
        offered_at=r["offered_at"],
        handover_id=r["handover_id"],
        supervised_by=r["supervised_by"],
        supervised_at=r["supervised_at"],
    )
