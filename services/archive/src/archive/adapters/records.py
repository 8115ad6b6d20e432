"""Archive's own database: records (one per document), their search fields, holds and links,
and the archive-code sequences. Handovers and volumes are in ``handovers``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from archive.domain.lifecycle import LegalHold
from contracts.events import ApprovalDecided, RecordArchived, RecordsHandedOver
from servicekit.mongo import Document


def _filing_fields(r: RecordArchived) -> Document:
    """What numbering and the registers query by (searching has its own index)."""
    return {"period": r.period, "voucher_no": r.voucher.voucher_no if r.voucher else None}


def _hold(doc: Document) -> LegalHold | None:
    h = doc.get("legal_hold")
    return LegalHold(h["reason"], h["placed_by"], h["placed_at"]) if h else None


class Records:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._records = db["records"]
        self._sequences = db["sequences"]
        self._claims = db["sequence_claims"]
        self._keys = db["voucher_keys"]
        self._scope_locks: dict[str, asyncio.Lock] = {}
        self._last_claimed: dict[str, int] = {}

    async def ensure_indexes(self) -> None:
        await self._records.create_index("archive_code", unique=True)
        await self._records.create_index([("fonds_code", 1), ("fiscal_year", 1), ("period", 1)])
        await self._records.create_index("retention_until")
        await self._claims.create_index([("scope", 1), ("holder", 1)])

    async def next_sequence(self, scope: str, holder: str) -> int:
        """Allocate the next item number within a scope to ``holder``, exactly once, without gaps.

        Each number is claimed by inserting a document whose _id is scope and number: the
        storage engine's unique key decides, so two archivers can never get the same number.
        (``findAndModify`` with ``$inc`` is not atomic on FerretDB v1's SQLite backend; this is.)
        A claim names its holder, so that a retry whose first claim did get in (its answer lost
        in an outage, or the process gone before the record was kept) takes that number again
        instead of leaving a gap. The counter document is
        only a hint of where to start; within this process, allocations of one scope take turns
        and start after the last number it claimed.
        """
        lock = self._scope_locks.setdefault(scope, asyncio.Lock())
        async with lock:
            # A retry (after an outage, a crash, in this process or another) takes the number
            # its first attempt claimed, even when others have claimed numbers since.
            mine = await self._claims.find_one({"scope": scope, "holder": holder})
            if mine is not None:
                return int(str(mine["_id"]).rsplit("#", 1)[1])
            last = self._last_claimed.get(scope)
            if last is None:
                hint = await self._sequences.find_one({"_id": scope})
                last = int(hint["value"]) if hint else 0
            number = last + 1
            while True:
                claim = {"_id": f"{scope}#{number:09d}", "scope": scope, "holder": holder}
                try:
                    await self._claims.insert_one(claim)
                    break
                except DuplicateKeyError:  # another archive process claimed it, or we did
                    held = await self._claims.find_one({"_id": claim["_id"]})
                    if held is not None and held.get("holder") == holder:
                        break
                    number += 1
            self._last_claimed[scope] = max(number, self._last_claimed.get(scope, 0))
        hint_up = {"$max": {"value": number}}
        try:
            await self._sequences.update_one({"_id": scope}, hint_up, upsert=True)
        except DuplicateKeyError:  # two first numbers of a scope upserted at once: now it exists
            await self._sequences.update_one({"_id": scope}, hint_up)
        return number

    async def claim_key(self, key: str, record_id: uuid.UUID) -> uuid.UUID:
        """Take a voucher's natural key for the record; the record holding it (itself, if it
        took it now or before a crash)."""
        try:
            await self._keys.insert_one({"_id": key, "record_id": str(record_id)})
            return record_id
        except DuplicateKeyError:
            held = await self._keys.find_one({"_id": key})
            return uuid.UUID(held["record_id"]) if held else record_id

    async def get(self, record_id: uuid.UUID | str) -> RecordArchived | None:
        doc = await self._records.find_one({"_id": str(record_id)}, projection={"event": 1})
        return RecordArchived.model_validate_json(doc["event"]) if doc else None

    async def get_locked(
        self, record_id: uuid.UUID | str
    ) -> tuple[RecordArchived, dict[str, str | None]] | None:
        """The record and, per original's object key, the object version locked at archiving
        (per SHA-256 for records archived before: ``domain.record.locked_version``)."""
        doc = await self._records.find_one(
            {"_id": str(record_id)}, projection={"event": 1, "versions": 1}
        )
        if doc is None:
            return None
        return RecordArchived.model_validate_json(doc["event"]), _versions(doc.get("versions"))

    async def add(self, record: RecordArchived, versions: dict[str, str | None]) -> RecordArchived:
        """Insert; if this record exists already (a redelivery), return the stored one.

        ``versions`` maps each original's object key to the object version locked at archiving.
        """
        try:
            await self._records.insert_one(
                {
                    "_id": str(record.record_id),
                    "archive_code": record.archive_code,
                    "fonds_code": record.fonds_code,
                    "fiscal_year": record.fiscal_year,
                    "category": record.category.value,
                    "archived_at": record.archived_at,
                    "retention_until": record.retention_until.isoformat()
                    if record.retention_until
                    else None,
                    "review_required": record.review_required,
                    # A list, not a map: object keys hold '.', which a document's keys may not.
                    "versions": [{"key": k, "version": v} for k, v in versions.items()],
                    "legal_hold": None,
                    "custody": "accounting",  # 临时保管 until handed over (第十一条)
                    "awaiting_review": record.review_required,
                    "review": None,
                    "approvals": [],
                    **_filing_fields(record),
                    # The fact as archived, exactly: JSON keeps Decimal and zone untouched.
                    "event": record.model_dump_json(),
                }
            )
            return record
        except DuplicateKeyError:
            stored = await self.get(record.record_id)
            if stored is None:  # the clash was on archive_code: a bug, not a redelivery
                raise
            return stored

    async def mark_superseded(self, record_id: uuid.UUID, by: uuid.UUID) -> None:
        await self._records.update_one(
            {"_id": str(record_id)}, {"$set": {"superseded_by": str(by)}}
        )

    async def all_records(self) -> AsyncIterator[RecordArchived]:
        async for d in self._records.find({}, projection={"event": 1}, batch_size=1000):
            yield RecordArchived.model_validate_json(d["event"])

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
        for record_id in decided.record_ids:
            await self._records.update_one(
                {"_id": str(record_id), "approvals.key": {"$ne": link["key"]}},
                {"$push": {"approvals": link}},
            )

    async def approvals(self, record_id: uuid.UUID) -> list[dict[str, Any]]:
        doc = await self._records.find_one({"_id": str(record_id)}, projection={"approvals": 1})
        return list(doc.get("approvals") or []) if doc else []

    async def past_retention(
        self, fonds_code: str, as_of: date
    ) -> list[tuple[RecordArchived, LegalHold | None]]:
        cursor = self._records.find(
            {"fonds_code": fonds_code, "retention_until": {"$lt": as_of.isoformat()}},
            projection={"event": 1, "legal_hold": 1},
        ).sort("archive_code", 1)
        return [(RecordArchived.model_validate_json(d["event"]), _hold(d)) async for d in cursor]

    async def in_accounting_custody(
        self, fonds_code: str, fiscal_year: int
    ) -> list[RecordArchived]:
        cursor = self._records.find(
            {"fonds_code": fonds_code, "fiscal_year": fiscal_year, "custody": {"$ne": "archive"}},
            projection={"event": 1},
        ).sort("archive_code", 1)
        return [RecordArchived.model_validate_json(d["event"]) async for d in cursor]

    async def awaiting_review(self, record_id: uuid.UUID) -> bool:
        doc = await self._records.find_one(
            {"_id": str(record_id)}, projection={"awaiting_review": 1}
        )
        return bool(doc and doc.get("awaiting_review"))

    async def set_review(self, record_id: uuid.UUID, review: Document) -> None:
        await self._records.update_one(
            {"_id": str(record_id)}, {"$set": {"awaiting_review": False, "review": review}}
        )

    async def move_to_archive(self, handover: RecordsHandedOver) -> None:
        """The handover's records pass to the archive department's custody; repeat-safe."""
        for record_id in handover.record_ids:
            await self._records.update_one(
                {"_id": str(record_id)},
                {"$set": {"custody": "archive", "handover_id": str(handover.handover_id)}},
            )

    async def custody_years(self, fonds_code: str) -> dict[int, int]:
        """Fiscal year → records of it still with the accounting department."""
        counts: dict[int, int] = {}
        cursor = self._records.find(
            {"fonds_code": fonds_code, "custody": {"$ne": "archive"}}, projection={"fiscal_year": 1}
        )
        async for d in cursor:
            counts[int(d["fiscal_year"])] = counts.get(int(d["fiscal_year"]), 0) + 1
        return counts

    async def of_year(self, fonds_code: str, fiscal_year: int) -> list[tuple[RecordArchived, bool]]:
        """Every record of a fonds and year, with whether it is on legal hold."""
        cursor = self._records.find(
            {"fonds_code": fonds_code, "fiscal_year": fiscal_year},
            projection={"event": 1, "legal_hold": 1},
        ).sort("archive_code", 1)
        return [
            (RecordArchived.model_validate_json(d["event"]), bool(d.get("legal_hold")))
            async for d in cursor
        ]

    async def voucher_numbers(self, fonds_code: str, fiscal_year: int, period: int) -> list[str]:
        cursor = self._records.find(
            {
                "fonds_code": fonds_code,
                "fiscal_year": fiscal_year,
                "period": period,
                "superseded_by": None,
            },
            projection={"voucher_no": 1},
        )
        return [d["voucher_no"] async for d in cursor if d.get("voucher_no")]

    async def all_ids(self) -> AsyncIterator[str]:
        async for d in self._records.find({}, projection={"_id": 1}).sort("_id", 1):
            yield str(d["_id"])


def _versions(stored: Any) -> dict[str, str | None]:
    """Versions as kept: a list of (object key, version); a map by SHA-256 in older records."""
    if isinstance(stored, list):
        return {str(e["key"]): e.get("version") for e in stored}
    return dict(stored or {})
