"""Custody of archived records: legal holds, appraisal at retention's end, re-checks, handover."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

import structlog

from archive.adapters.permission_client import AccessDenied, PermissionClient
from archive.adapters.records import Records
from archive.adapters.search_index import SearchIndex
from archive.domain.archive_code import ArchiveCodeRule
from archive.domain.lifecycle import (
    CustodyConflict,
    HandoverRefused,
    HoldConflict,
    LegalHold,
    appraise,
    custody_due,
    extended_custody,
    place_hold,
    release_hold,
)
from archive.domain.numbering import NumberingReport, numbering
from archive.domain.recheck import Finding, Stored, object_keys, recheck
from archive.domain.volumes import (
    BoundVolume,
    Volume,
    assemble,
    bind,
    next_number,
    year_volumes,
)
from archive.service import NotFound
from contracts.envelope import derived_event_id, new_event
from contracts.events import (
    CustodyExtended,
    IntegrityAlertRaised,
    LegalHoldPlaced,
    LegalHoldReleased,
    RecordArchived,
    RecordReviewed,
    RecordsHandedOver,
)
from contracts.records import CheckResult
from contracts.types import utc_now
from servicekit.kafka import EventPublisher
from servicekit.s3 import ObjectStore

log = structlog.get_logger()


class CustodyService:
    def __init__(
        self,
        records: Records,
        index: SearchIndex,
        store: ObjectStore,
        publisher: EventPublisher,
        permissions: PermissionClient,
        rule: ArchiveCodeRule,
        source: str,
    ) -> None:
        self._rule = rule
        self._records = records
        self._index = index
        self._store = store
        self._publisher = publisher
        self._permissions = permissions
        self._source = source

    async def _locked(self, record_id: uuid.UUID) -> tuple[RecordArchived, dict[str, str | None]]:
        found = await self._records.get_locked(record_id)
        if found is None:
            raise NotFound(f"no archive record {record_id}")
        return found

    async def place_hold(self, record_id: uuid.UUID, reason: str, user: str) -> LegalHold:
        record, versions = await self._locked(record_id)
        await self._permissions.require(user, "hold", record_id)
        hold = place_hold(await self._records.hold(record_id), LegalHold(reason, user, utc_now()))
        for f in record.originals:  # the object store enforces it too, whatever the database says
            await self._store.set_legal_hold(f.object_key, versions.get(f.sha256), True)
        await self._records.set_hold(record_id, hold)
        await self._publisher.publish(
            new_event(
                LegalHoldPlaced(
                    record_id=record_id,
                    archive_code=record.archive_code,
                    reason=reason,
                    placed_by=user,
                    placed_at=hold.placed_at,
                ),
                source=self._source,
                subject=str(record_id),
                correlation_id=str(uuid.uuid4()),
                actor=user,
            )
        )
        return hold

    async def release_hold(self, record_id: uuid.UUID, reason: str, user: str) -> None:
        record, versions = await self._locked(record_id)
        await self._permissions.require(user, "hold", record_id)
        release_hold(await self._records.hold(record_id))
        if record.retention_until is not None:  # permanent records keep their S3 legal hold
            for f in record.originals:
                await self._store.set_legal_hold(f.object_key, versions.get(f.sha256), False)
        await self._records.set_hold(record_id, None)
        await self._publisher.publish(
            new_event(
                LegalHoldReleased(
                    record_id=record_id,
                    archive_code=record.archive_code,
                    reason=reason,
                    released_by=user,
                    released_at=utc_now(),
                ),
                source=self._source,
                subject=str(record_id),
                correlation_id=str(uuid.uuid4()),
                actor=user,
            )
        )

    async def appraisal(
        self, fonds_code: str, as_of: date, user: str
    ) -> dict[str, list[dict[str, Any]]]:
        """Records whose retention has ended (鉴定): those due, and apart, those on legal hold."""
        await self._fonds_visible(user, fonds_code)
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

    async def _fonds_visible(self, user: str, fonds_code: str) -> None:
        visible = await self._permissions.visibility(user, "read")
        if not (visible.all_fonds or fonds_code in visible.fonds):
            raise AccessDenied(f"{user} may not read fonds {fonds_code}")

    async def volumes(
        self, fonds_code: str, fiscal_year: int, user: str
    ) -> tuple[list[Volume], set[str]]:
        """The year's volumes (组卷), and the ids of records on legal hold."""
        await self._fonds_visible(user, fonds_code)
        rows = await self._records.of_year(fonds_code, fiscal_year)
        bound = await self._records.bound_volumes(fonds_code, fiscal_year)
        return (
            year_volumes((r for r, _ in rows), bound),
            {str(r.record_id) for r, held in rows if held},
        )

    async def review(
        self,
        record_id: uuid.UUID,
        decision: Literal["accepted", "needs_correction"],
        note: str,
        user: str,
    ) -> RecordReviewed:
        """An archivist decides on a record a check held for review: accepted, or to correct."""
        record = await self._records.get(record_id)
        if record is None:
            raise NotFound(f"no archive record {record_id}")
        await self._permissions.require(user, "review", record_id)
        if not await self._records.awaiting_review(record_id):
            raise HoldConflict(f"record {record.archive_code} is not awaiting review")
        reviewed = RecordReviewed(
            record_id=record_id,
            archive_code=record.archive_code,
            decision=decision,
            note=note,
            reviewed_by=user,
            reviewed_at=utc_now(),
        )
        await self._records.set_review(record_id, reviewed.model_dump(mode="json"))
        await self._index.reviewed(str(record_id))
        await self._publisher.publish(
            new_event(
                reviewed,
                source=self._source,
                subject=str(record_id),
                correlation_id=str(uuid.uuid4()),
                actor=user,
            )
        )
        return reviewed

    async def hand_over(
        self,
        fonds_code: str,
        fiscal_year: int,
        *,
        user: str,
        handed_over_by: str,
        supervised_by: str | None,
    ) -> RecordsHandedOver:
        """移交: the archive department (``user``) takes over a year's records from the accounting
        department, after re-checking every original. Refused whole if any check fails.

        An interrupted handover of the same year is completed as it was started instead.
        """
        unfinished = await self._records.unfinished_handovers(fonds_code, fiscal_year)
        if unfinished:
            started, volumes = unfinished[0]
            await self._permissions.require(user, "handover", started.record_ids[0])
            return await self._complete(started, volumes)
        records = await self._records.in_accounting_custody(fonds_code, fiscal_year)
        if not records:
            raise HandoverRefused(
                f"no records of {fonds_code} {fiscal_year} are with the accounting department"
            )
        await self._permissions.require(user, "handover", records[0].record_id)
        # Every reason at once, so that one visit to the archive department mends them all.
        reasons = [
            f"re-check {finding.code} failed for {r.archive_code}: "
            f"{finding.filename}: {finding.detail}"
            for r in records
            for finding in (await self.recheck(r.record_id))[1]
        ]
        reasons += [
            f"{r.archive_code} still awaits an archivist's review"
            for r in records
            if await self._records.awaiting_review(r.record_id)
        ]
        if reasons:
            raise HandoverRefused("; ".join(reasons))
        # Bound now, numbered after any volumes of the year bound at an earlier handover.
        first = next_number(await self._records.bound_volumes(fonds_code, fiscal_year))
        volumes = bind(assemble(records, first))
        handover = RecordsHandedOver(
            handover_id=uuid.uuid4(),
            fonds_code=fonds_code,
            fiscal_year=fiscal_year,
            record_ids=tuple(r.record_id for r in records),
            volumes=len(volumes),
            handed_over_by=handed_over_by,
            received_by=user,
            supervised_by=supervised_by,
            handed_over_at=utc_now(),
        )
        await self._records.start_handover(handover, volumes)
        return await self._complete(handover, volumes)

    async def _complete(
        self, handover: RecordsHandedOver, volumes: list[BoundVolume]
    ) -> RecordsHandedOver:
        """Apply a started handover; every step repeat-safe, the event under a derived id."""
        await self._records.apply_handover(handover, volumes)
        await self._publisher.publish(
            new_event(
                handover,
                source=self._source,
                subject=str(handover.handover_id),
                correlation_id=str(handover.handover_id),
                actor=handover.received_by,
                event_id=derived_event_id(handover.handover_id, RecordsHandedOver),
            )
        )
        await self._records.finish_handover(handover.handover_id)
        return handover

    async def resume_handovers(self) -> None:
        """At start: complete the handovers a crash interrupted."""
        for started, volumes in await self._records.unfinished_handovers():
            log.warning("completing an interrupted handover", handover=str(started.handover_id))
            await self._complete(started, volumes)

    async def extend_custody(
        self, fonds_code: str, fiscal_year: int, extended_years: int, reason: str, user: str
    ) -> CustodyExtended:
        """The archive department (``user``) consents to a longer temporary custody (第十一条)."""
        records = await self._records.in_accounting_custody(fonds_code, fiscal_year)
        if not records:
            raise CustodyConflict(
                f"no records of {fonds_code} {fiscal_year} are with the accounting department"
            )
        await self._permissions.require(user, "handover", records[0].record_id)
        current = (await self._records.custody_extensions(fonds_code)).get(fiscal_year, 0)
        extended = CustodyExtended(
            fonds_code=fonds_code,
            fiscal_year=fiscal_year,
            extended_years=extended_years,
            custody_until=extended_custody(fiscal_year, extended_years, current),
            reason=reason,
            consented_by=user,
            extended_at=utc_now(),
        )
        await self._records.extend_custody(extended.model_dump(mode="json"))
        await self._publisher.publish(
            new_event(
                extended,
                source=self._source,
                subject=f"{fonds_code}|{fiscal_year}",
                correlation_id=str(uuid.uuid4()),
                actor=user,
            )
        )
        return extended

    async def custody_overdue(
        self, fonds_code: str, as_of: date, user: str
    ) -> list[dict[str, Any]]:
        """Years whose records are still with the accounting department past temporary custody,
        counting the extensions the archive department consented to."""
        await self._fonds_visible(user, fonds_code)
        extensions = await self._records.custody_extensions(fonds_code)
        overdue = []
        for year, count in sorted((await self._records.custody_years(fonds_code)).items()):
            due = custody_due(year, extensions.get(year, 0))
            if due < as_of:
                overdue.append(
                    {
                        "fiscal_year": year,
                        "records": count,
                        "custody_due": due.isoformat(),
                        "extended_years": extensions.get(year, 0),
                    }
                )
        return overdue

    async def numbering(
        self, fonds_code: str, fiscal_year: int, period: int, user: str
    ) -> list[NumberingReport]:
        """2-6: are the period's voucher numbers continuous? Gaps and repeats, per voucher word."""
        await self._fonds_visible(user, fonds_code)
        return numbering(await self._records.voucher_numbers(fonds_code, fiscal_year, period))

    async def recheck_for(
        self, record_id: uuid.UUID, user: str
    ) -> tuple[list[CheckResult], list[Finding]]:
        """A re-check asked for by ``user``, who must be allowed to read the record."""
        await self._permissions.require(user, "read", record_id)
        return await self.recheck(record_id)

    async def recheck(self, record_id: uuid.UUID) -> tuple[list[CheckResult], list[Finding]]:
        """Run the storage check table over a record as kept now; alert on every finding."""
        record = await self._records.get(record_id)
        if record is None:
            raise NotFound(f"no archive record {record_id}")
        objects = {key: await self._read(key) for key in object_keys(record)}
        report, findings = recheck(Stored(record, objects, self._rule))
        for finding in findings:
            alert = IntegrityAlertRaised(
                record_id=record_id,
                archive_code=record.archive_code,
                filename=finding.filename,
                object_key=finding.object_key,
                expected_sha256=finding.expected_sha256,
                found_sha256=finding.found_sha256,
                detail=finding.detail,
                detected_at=utc_now(),
                check_code=finding.code,
            )
            await self._publisher.publish(
                new_event(
                    alert,
                    source=self._source,
                    subject=str(record_id),
                    correlation_id=str(uuid.uuid4()),
                    actor="recheck",
                )
            )
            log.error(
                "integrity alert",
                record_id=str(record_id),
                check=finding.code,
                file=finding.filename,
                detail=finding.detail,
            )
        return report, findings

    async def _read(self, key: str) -> bytes | None:
        """The object as the store serves it now (its latest version), None if unreadable."""
        try:
            return await self._store.get(key)
        except Exception:  # the SDK raises S3Error (or a connection error)
            return None

    async def recheck_all(self) -> int:
        """The scheduled sweep: every record re-checked; the number of findings."""
        count = 0
        async for record_id in self._records.all_ids():
            count += len((await self.recheck(uuid.UUID(record_id)))[1])
        return count
