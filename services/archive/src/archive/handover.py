"""Handing over (移交, 第十一条): a year's records pass from the accounting department's temporary
custody to the archive department, after a re-check of each; custody extended with consent."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import structlog

from archive.adapters.permission_client import PermissionClient
from archive.adapters.records import Records
from archive.domain.lifecycle import CustodyConflict, HandoverRefused, custody_due, extended_custody
from archive.domain.volumes import BoundVolume, assemble, bind, next_number
from archive.integrity import IntegrityService
from contracts.envelope import derived_event_id, new_event
from contracts.events import CustodyExtended, RecordsHandedOver
from contracts.types import utc_now
from servicekit.kafka import EventPublisher

log = structlog.get_logger()


class HandoverService:
    def __init__(
        self,
        records: Records,
        integrity: IntegrityService,
        publisher: EventPublisher,
        permissions: PermissionClient,
        source: str,
    ) -> None:
        self._records = records
        self._integrity = integrity
        self._publisher = publisher
        self._permissions = permissions
        self._source = source

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
        findings = await self._integrity.findings_of(r.record_id for r in records)
        reasons = [
            f"re-check {finding.code} failed for {r.archive_code}: "
            f"{finding.filename}: {finding.detail}"
            for r in records
            for finding in findings[r.record_id]
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
        await self._records.finish_handover(handover)
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
        await self._permissions.require_fonds(user, "read", fonds_code)
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
