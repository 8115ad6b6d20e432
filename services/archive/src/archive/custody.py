"""Custody of archived records: legal holds, appraisal at retention's end, volumes, reviews,
numbering. Re-checks are in ``integrity``, handovers in ``handover``."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

import structlog

from archive.access import require_record
from archive.domain.lifecycle import (
    DutiesSeparated,
    HoldConflict,
    LegalHold,
    NotFound,
    appraise,
    place_hold,
    release_hold,
)
from archive.domain.numbering import NumberingReport, numbering
from archive.domain.record import locked_version
from archive.domain.volumes import Volume, year_volumes
from archive.ports import (
    HandoverStore,
    HoldStore,
    LockStore,
    Permissions,
    Publisher,
    RecordStore,
    ReviewIndex,
    ReviewStore,
)
from archive.reads import Reader, ReadLog
from contracts.envelope import derived_event_id, new_event
from contracts.events import (
    LegalHoldPlaced,
    LegalHoldReleased,
    RecordArchived,
    RecordReviewed,
)
from contracts.types import utc_now
from servicekit.auth import Person
from servicekit.database import UnitOfWork

log = structlog.get_logger()


class CustodyService:
    def __init__(
        self,
        records: RecordStore,
        holds: HoldStore,
        handovers: HandoverStore,
        reviews: ReviewStore,
        index: ReviewIndex,
        store: LockStore,
        publisher: Publisher,
        permissions: Permissions,
        source: str,
        unit: UnitOfWork,
    ) -> None:
        self._unit = unit
        self._records = records
        self._holds = holds
        self._handovers = handovers
        self._reviews = reviews
        self._index = index
        self._store = store
        self._publisher = publisher
        self._permissions = permissions
        self._source = source
        self._reads = ReadLog(publisher, source)

    async def _locked(self, record_id: uuid.UUID) -> tuple[RecordArchived, dict[str, str | None]]:
        found = await self._records.get_locked(record_id)
        if found is None:
            raise NotFound(f"no archive record {record_id}")
        return found

    async def place_hold(self, record_id: uuid.UUID, reason: str, user: Person) -> LegalHold:
        """第十九条: a record of unsettled claims or open matters is held from destruction. Of two
        placed at once, one is; the other is refused (409)."""
        record, versions = await self._locked(record_id)
        await require_record(
            self._permissions, user, "hold", record_id, f"no archive record {record_id}"
        )
        n, current = await self._holds.current(record_id)
        hold = place_hold(current, LegalHold(reason, user.name, utc_now()))
        # The object store first (repeat-safe): the database never says held while it is not.
        for f in record.originals:
            await self._store.set_legal_hold(f.object_key, locked_version(versions, f), True)
        async with self._unit():
            await self._holds.change(record_id, n, hold)
            await self._publisher.publish(
                new_event(
                    LegalHoldPlaced(
                        record_id=record_id,
                        archive_code=record.archive_code,
                        reason=reason,
                        placed_by=user.name,
                        placed_at=hold.placed_at,
                    ),
                    source=self._source,
                    subject=str(record_id),
                    correlation_id=str(uuid.uuid4()),
                    actor=user.name,
                )
            )
        return hold

    async def release_hold(self, record_id: uuid.UUID, reason: str, user: Person) -> None:
        """The matter is settled: the hold is released, once (of two releases at once, one is)."""
        record, versions = await self._locked(record_id)
        await require_record(
            self._permissions, user, "hold", record_id, f"no archive record {record_id}"
        )
        n, current = await self._holds.current(record_id)
        release_hold(current)
        async with self._unit():
            await self._holds.change(record_id, n, None)
            await self._publisher.publish(
                new_event(
                    LegalHoldReleased(
                        record_id=record_id,
                        archive_code=record.archive_code,
                        reason=reason,
                        released_by=user.name,
                        released_at=utc_now(),
                    ),
                    source=self._source,
                    subject=str(record_id),
                    correlation_id=str(uuid.uuid4()),
                    actor=user.name,
                )
            )
        # Then the object store: a failure here leaves the originals held, never less protected.
        if record.retention_until is not None:  # permanent records keep their S3 legal hold
            for f in record.originals:
                await self._store.set_legal_hold(f.object_key, locked_version(versions, f), False)

    async def appraisal(
        self, fonds_code: str, as_of: date, user: Person
    ) -> dict[str, list[dict[str, Any]]]:
        """Records whose retention has ended (鉴定): those due, and apart, those on legal hold."""
        await self._permissions.require_fonds(user, "read", fonds_code)
        due: list[dict[str, Any]] = []
        held: list[dict[str, Any]] = []
        for record, hold in await self._records.past_retention(fonds_code, as_of):
            state = appraise(record.retention_until, hold, as_of)
            item = {
                "record_id": str(record.record_id),
                "archive_code": record.archive_code,
                "retention_until": record.retention_until.isoformat()
                if record.retention_until
                else None,
            }
            if state == "due":
                due.append(item)
            elif state == "held" and hold:
                held.append(
                    {**item, "hold_reason": hold.reason, "held_since": hold.placed_at.isoformat()}
                )
        return {"due": due, "held": held}

    async def volumes(
        self, fonds_code: str, fiscal_year: int, user: Person
    ) -> tuple[list[Volume], set[str]]:
        """The year's volumes (组卷), and the ids of records on legal hold."""
        await self._permissions.require_fonds(user, "read", fonds_code)
        rows = await self._records.of_year(fonds_code, fiscal_year)
        bound = await self._handovers.bound_volumes(fonds_code, fiscal_year)
        return (
            year_volumes((r for r, _ in rows), bound),
            {str(r.record_id) for r, held in rows if held},
        )

    async def register(
        self, kind: str, fonds_code: str, fiscal_year: int, reader: Reader
    ) -> tuple[list[Volume], set[str]]:
        """The volumes a register (保管清册 custody, 移交清册 handover) lists: every record of
        the year, so fetching it is a read on record."""
        found, held = await self.volumes(fonds_code, fiscal_year, reader)
        shown = [(r.record_id, r.fonds_code) for v in found for r in v.records]
        if shown:
            query = {"register": kind, "fiscal_year": fiscal_year}
            await self._reads.read(reader, "register", shown, query=query)
        return found, held

    async def review(
        self,
        record_id: uuid.UUID,
        decision: Literal["accepted", "needs_correction"],
        note: str,
        user: Person,
    ) -> RecordReviewed:
        """An archivist decides on a record a check held for review: accepted, or to correct."""
        record = await self._records.get(record_id)
        if record is None:
            raise NotFound(f"no archive record {record_id}")
        await require_record(
            self._permissions, user, "review", record_id, f"no archive record {record_id}"
        )
        if record.submitted_by == user.name:
            raise DutiesSeparated(
                f"{user.name} uploaded record {record.archive_code} and may not review it: "
                "another archivist decides"
            )
        if not record.review_required:
            raise HoldConflict(f"record {record.archive_code} was not held for review")
        reviewed = RecordReviewed(
            record_id=record_id,
            archive_code=record.archive_code,
            decision=decision,
            note=note,
            reviewed_by=user.name,
            reviewed_at=utc_now(),
        )
        async with self._unit():  # of two archivists deciding at once, one decides
            await self._reviews.decide(reviewed)
            await self._records.set_review(reviewed.record_id, reviewed.model_dump(mode="json"))
            await self._publisher.publish(
                new_event(
                    reviewed,
                    source=self._source,
                    subject=str(reviewed.record_id),
                    correlation_id=str(reviewed.record_id),
                    actor=reviewed.reviewed_by,
                    event_id=derived_event_id(reviewed.record_id, RecordReviewed),
                )
            )
        await self._index.reviewed(str(reviewed.record_id))
        return reviewed

    async def numbering(
        self, fonds_code: str, fiscal_year: int, period: int, user: Person
    ) -> list[NumberingReport]:
        """2-6: are the period's voucher numbers continuous? Gaps and repeats, per voucher word."""
        await self._permissions.require_fonds(user, "read", fonds_code)
        return numbering(await self._records.voucher_numbers(fonds_code, fiscal_year, period))
