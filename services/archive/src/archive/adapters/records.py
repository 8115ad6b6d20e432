"""Archive's own database: records (one per document), what numbering, custody, review, holds
and appraisal query them by, and the archive-code sequences. Handovers and volumes are in
``handovers``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any

from psycopg import Rollback
from psycopg.types.json import Jsonb

from archive.domain.lifecycle import LegalHold
from contracts.events import ApprovalDecided, RecordArchived, RecordsHandedOver
from contracts.records import CorrectionLink
from servicekit.database import Pool, transaction


def hold_of(value: dict[str, Any] | None) -> LegalHold | None:
    """A legal hold as the database keeps it (JSON), back as the domain's."""
    if not value:
        return None
    return LegalHold(
        value["reason"], value["placed_by"], datetime.fromisoformat(value["placed_at"])
    )


def hold_value(hold: LegalHold | None) -> Jsonb | None:
    if hold is None:
        return None
    return Jsonb(
        {
            "reason": hold.reason,
            "placed_by": hold.placed_by,
            "placed_at": hold.placed_at.isoformat(),
        }
    )


def _archived(row: dict[str, Any]) -> RecordArchived:
    """The record exactly as archived: what its package holds."""
    return RecordArchived.model_validate_json(row["event"])


def _event(row: dict[str, Any]) -> RecordArchived:
    """The record as it stands: as archived, with what was recorded since (a fixed-asset card's
    disposal, a correction's link to a voucher archived after it; a new metadata version of its
    package comes with the lifecycle's changes)."""
    record = _archived(row)
    if (link := row.get("corrects_link")) is not None and record.corrects is None:
        record = record.model_copy(update={"corrects": CorrectionLink.model_validate(link)})
    if (on := row.get("disposed_on")) is not None and record.material is not None:
        return record.model_copy(
            update={
                "retention_until": row["retention_until"],
                "material": record.material.model_copy(update={"disposed_on": on}),
            }
        )
    return record


# What ``_event`` reads a record from.
RECORD = "event, disposed_on, retention_until, corrects_link"


class Records:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def _events(self, where: str, args: tuple[Any, ...], extra: str = "") -> list[Any]:
        async with self._pool.connection() as conn:
            # ``where`` and ``extra`` are constants of this module; values go as parameters.
            query = f"SELECT {RECORD}{extra} FROM records WHERE {where}"  # noqa: S608
            found = await conn.execute(query, args)
            return list(await found.fetchall())

    async def next_sequence(self, scope: str, holder: str) -> int:
        """Allocate the next item number within a scope to ``holder``, exactly once, without gaps.

        The counter row is updated and the claim kept in one transaction: of two archivers, the
        second waits for the first's commit and takes the next number. A claim names its holder,
        so a retry whose first claim did get in (its answer lost in an outage, or the process
        gone before the record was kept) takes that number again instead of leaving a gap.
        """
        while True:
            number: int | None = None
            async with transaction(self._pool) as conn:
                mine = await conn.execute(
                    "SELECT number FROM sequence_claims WHERE scope = %s AND holder = %s",
                    (scope, holder),
                )
                if (row := await mine.fetchone()) is not None:
                    return int(row["number"])
                counted = await conn.execute(
                    "INSERT INTO sequences (scope, value) VALUES (%s, 1) ON CONFLICT (scope) "
                    "DO UPDATE SET value = sequences.value + 1 RETURNING value",
                    (scope,),
                )
                counter = await counted.fetchone()
                assert counter is not None
                claimed = await conn.execute(
                    "INSERT INTO sequence_claims (scope, number, holder) VALUES (%s, %s, %s) "
                    "ON CONFLICT (scope, holder) DO NOTHING",
                    (scope, counter["value"], holder),
                )
                if claimed.rowcount == 0:
                    raise Rollback  # the same holder claimed meanwhile: read its number
                number = int(counter["value"])
            if number is not None:
                return number

    async def claim_key(self, key: str, record_id: uuid.UUID) -> uuid.UUID:
        """Take a voucher's natural key for the record; the record holding it (itself, if it
        took it now or before a crash)."""
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO voucher_keys (key, record_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (key, record_id),
            )
            held = await conn.execute("SELECT record_id FROM voucher_keys WHERE key = %s", (key,))
            row = await held.fetchone()
            return row["record_id"] if row else record_id

    async def by_code(self, archive_code: str) -> RecordArchived | None:
        found = await self._events("archive_code = %s", (archive_code,))
        return _event(found[0]) if found else None

    async def holder_of(self, key: str) -> uuid.UUID | None:
        """The record holding a voucher's natural key, if one does."""
        async with self._pool.connection() as conn:
            held = await conn.execute("SELECT record_id FROM voucher_keys WHERE key = %s", (key,))
            row = await held.fetchone()
            return row["record_id"] if row else None

    async def get(self, record_id: uuid.UUID | str) -> RecordArchived | None:
        found = await self._events("record_id = %s", (str(record_id),))
        return _event(found[0]) if found else None

    async def get_locked(
        self, record_id: uuid.UUID | str
    ) -> tuple[RecordArchived, dict[str, str | None]] | None:
        """The record and, per original's object key, the object version locked at archiving."""
        found = await self._with_versions(record_id)
        return (_event(found[0]), found[1]) if found else None

    async def as_archived(
        self, record_id: uuid.UUID | str
    ) -> tuple[RecordArchived, dict[str, str | None]] | None:
        """The record exactly as archived (what its package holds), and its locked versions."""
        found = await self._with_versions(record_id)
        return (_archived(found[0]), found[1]) if found else None

    async def _with_versions(
        self, record_id: uuid.UUID | str
    ) -> tuple[dict[str, Any], dict[str, str | None]] | None:
        found = await self._events("record_id = %s", (str(record_id),), ", versions")
        if not found:
            return None
        return found[0], {str(e["key"]): e.get("version") for e in found[0]["versions"]}

    async def add(self, record: RecordArchived, versions: dict[str, str | None]) -> RecordArchived:
        """Insert; if this record exists already (a redelivery), return the stored one.

        ``versions`` maps each original's object key to the object version locked at archiving.
        """
        v, m = record.voucher, record.material
        async with self._pool.connection() as conn:
            kept = await conn.execute(
                "INSERT INTO records (record_id, archive_code, fonds_code, fiscal_year, period, "
                "voucher_no, category, archived_at, retention_until, review_required, versions, "
                "awaiting_review, corrects, period_from, bank_account, bank_accounts, event) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (record_id) DO NOTHING",
                (record.record_id, record.archive_code, record.fonds_code, record.fiscal_year,
                 record.period, v.voucher_no if v else None,
                 record.category.value, record.archived_at, record.retention_until,
                 record.review_required,
                 Jsonb([{"key": k, "version": v} for k, v in versions.items()]),
                 record.review_required,
                 record.corrects.record_id if record.corrects else None,
                 m.period_from if m else None, m.bank_account if m else None,
                 Jsonb([a.model_dump() for a in v.bank_accounts]) if v else None,
                 record.model_dump_json()),
            )  # fmt: skip
        if kept.rowcount == 1:
            return record
        stored = await self.get(record.record_id)
        assert stored is not None
        return stored

    async def record_disposal(self, card: RecordArchived) -> bool:
        """Keep a card's disposal (and its retention counted from it); False if one was
        recorded already."""
        assert card.material is not None and card.material.disposed_on is not None
        async with self._pool.connection() as conn:
            kept = await conn.execute(
                "UPDATE records SET disposed_on = %s, retention_until = %s "
                "WHERE record_id = %s AND disposed_on IS NULL",
                (card.material.disposed_on, card.retention_until, card.record_id),
            )
            return kept.rowcount == 1

    async def corrections_of(self, record_id: uuid.UUID) -> list[RecordArchived]:
        """The records that correct this one (注销, 订正, 调整, 更正), oldest first."""
        found = await self._events("corrects = %s ORDER BY archived_at", (record_id,))
        return [_event(row) for row in found]

    async def all_records(self) -> AsyncIterator[RecordArchived]:
        """Every record, for the search index's rebuild: a deliberate full read, by pages."""
        async for row in self._pages(RECORD):
            yield _event(row)

    async def _pages(self, column: str, size: int = 1000) -> AsyncIterator[dict[str, Any]]:
        """Every row's ``column``, a page at a time in record-id order: no transaction held
        open while the caller works on each."""
        after = uuid.UUID(int=0)
        while True:
            async with self._pool.connection() as conn:
                found = await conn.execute(
                    # ``column``: a constant of this module
                    f"SELECT record_id, {column} FROM records WHERE record_id > %s "  # noqa: S608
                    "ORDER BY record_id LIMIT %s",
                    (after, size),
                )
                page = await found.fetchall()
            for row in page:
                yield row
            if len(page) < size:
                return
            after = page[-1]["record_id"]

    async def add_approval(self, decided: ApprovalDecided) -> None:
        """Link a borrowing's decision to each record it concerns: each state it reaches once
        (approved, and revoked after, are two entries of its history)."""
        link = {
            "key": f"{decided.request_id}:{decided.decision}",
            "request_id": str(decided.request_id),
            "decision": decided.decision,
            "applicant": decided.applicant,
            "approver": decided.approver,
            "oa_instance_id": decided.oa_instance_id,
            "decided_at": decided.decided_at.isoformat(),
        }
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE records SET approvals = approvals || %s WHERE record_id = ANY(%s) "
                "AND NOT approvals @> %s",
                (Jsonb([link]), list(decided.record_ids), Jsonb([{"key": link["key"]}])),
            )

    async def approvals(self, record_id: uuid.UUID) -> list[dict[str, Any]]:
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT approvals FROM records WHERE record_id = %s", (record_id,)
            )
            row = await found.fetchone()
            return list(row["approvals"]) if row else []

    async def past_retention(
        self, fonds_code: str, as_of: date
    ) -> list[tuple[RecordArchived, LegalHold | None]]:
        found = await self._events(
            "fonds_code = %s AND retention_until < %s ORDER BY archive_code",
            (fonds_code, as_of),
            ", legal_hold",
        )
        return [(_event(r), hold_of(r["legal_hold"])) for r in found]

    async def in_accounting_custody(
        self, fonds_code: str, fiscal_year: int
    ) -> list[RecordArchived]:
        found = await self._events(
            "fonds_code = %s AND fiscal_year = %s AND custody <> 'archive' ORDER BY archive_code",
            (fonds_code, fiscal_year),
        )
        return [_event(r) for r in found]

    async def awaiting_review(self, record_id: uuid.UUID) -> bool:
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT awaiting_review FROM records WHERE record_id = %s", (record_id,)
            )
            row = await found.fetchone()
            return bool(row and row["awaiting_review"])

    async def set_review(self, record_id: uuid.UUID, review: dict[str, Any]) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE records SET awaiting_review = false, review = %s WHERE record_id = %s",
                (Jsonb(review), record_id),
            )

    async def move_to_archive(self, handover: RecordsHandedOver) -> None:
        """The handover's records, and its 移交清册 kept as a record, pass to the archive
        department's custody; repeat-safe."""
        moved = [*handover.record_ids, *filter(None, [handover.handover_list_record_id])]
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE records SET custody = 'archive', handover_id = %s "
                "WHERE record_id = ANY(%s)",
                (handover.handover_id, moved),
            )

    async def custody_years(self, fonds_code: str) -> dict[int, int]:
        """Fiscal year → records of it still with the accounting department."""
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT fiscal_year, count(*) AS n FROM records "
                "WHERE fonds_code = %s AND custody <> 'archive' GROUP BY fiscal_year",
                (fonds_code,),
            )
            return {int(r["fiscal_year"]): int(r["n"]) for r in await found.fetchall()}

    async def of_year(self, fonds_code: str, fiscal_year: int) -> list[tuple[RecordArchived, bool]]:
        """Every record of a fonds and year, with whether it is on legal hold."""
        found = await self._events(
            "fonds_code = %s AND fiscal_year = %s ORDER BY archive_code",
            (fonds_code, fiscal_year),
            ", legal_hold IS NOT NULL AS held",
        )
        return [(_event(r), bool(r["held"])) for r in found]

    async def voucher_numbers(self, fonds_code: str, fiscal_year: int, period: int) -> list[str]:
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT voucher_no FROM records WHERE fonds_code = %s AND fiscal_year = %s "
                "AND period = %s AND superseded_by IS NULL AND voucher_no IS NOT NULL",
                (fonds_code, fiscal_year, period),
            )
            return [r["voucher_no"] for r in await found.fetchall()]

    async def all_ids(self) -> AsyncIterator[str]:
        """Every record's id, in order: the re-check's walk, a deliberate full read."""
        async for row in self._pages("record_id AS id"):
            yield str(row["id"])
