"""Handing over (移交, 第十一条): a year's records pass from the accounting department's temporary
custody to the archive department, after a re-check of each; custody extended with consent."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import structlog

from archive.completeness import CompletenessService
from archive.domain.lifecycle import (
    CustodyConflict,
    DutiesSeparated,
    HandoverOffer,
    HandoverRefused,
    NotFound,
    custody_due,
    extended_custody,
)
from archive.domain.volumes import BoundVolume, assemble, bind, next_number
from archive.ports import HandoverRecords, HandoverStore, Integrity, Permissions, Publisher
from contracts.checks import Stage
from contracts.envelope import derived_event_id, new_event
from contracts.events import CustodyExtended, RecordsHandedOver
from contracts.roles import Action
from contracts.types import utc_now
from servicekit.auth import Person
from servicekit.database import UnitOfWork

log = structlog.get_logger()


class HandoverService:
    def __init__(
        self,
        records: HandoverRecords,
        handovers: HandoverStore,
        integrity: Integrity,
        publisher: Publisher,
        permissions: Permissions,
        source: str,
        unit: UnitOfWork,
        completeness: CompletenessService,
    ) -> None:
        self._unit = unit
        self._completeness = completeness
        self._records = records
        self._handovers = handovers
        self._integrity = integrity
        self._publisher = publisher
        self._permissions = permissions
        self._source = source

    async def offer(self, fonds_code: str, fiscal_year: int, *, user: Person) -> HandoverOffer:
        """移交, first step: the accounting department (``user``, 移交人) offers a year's records
        it holds; the open offer of that year if one was made already."""
        await self._permissions.require_fonds(user, Action.HAND_OVER, fonds_code)
        if not await self._records.in_accounting_custody(fonds_code, fiscal_year):
            raise HandoverRefused(
                f"no records of {fonds_code} {fiscal_year} are with the accounting department"
            )
        offer = HandoverOffer(uuid.uuid4(), fonds_code, fiscal_year, user.name, utc_now())
        return await self._handovers.offer(offer)

    async def accept(
        self, offer_id: uuid.UUID, *, user: Person, supervised_by: str | None
    ) -> RecordsHandedOver:
        """移交, second step: an archivist (``user``, 接收人) accepts an offer after the re-check;
        never the person who offered it."""
        offer = await self._handovers.offer_of(offer_id)
        if offer is None:
            raise NotFound(f"no handover offer {offer_id}")
        await self._permissions.require_fonds(user, Action.ACCEPT_HANDOVER, offer.fonds_code)
        if offer.offered_by == user.name:
            raise DutiesSeparated(f"{user.name} offered this handover: another person accepts it")
        if offer.handover_id is not None:
            raise HandoverRefused(f"offer {offer_id} was accepted by handover {offer.handover_id}")
        handover = await self.hand_over(
            offer.fonds_code,
            offer.fiscal_year,
            user=user,
            handed_over_by=offer.offered_by,
            supervised_by=supervised_by,
        )
        await self._handovers.accepted(offer_id, handover.handover_id)
        return handover

    async def hand_over(
        self,
        fonds_code: str,
        fiscal_year: int,
        *,
        user: Person,
        handed_over_by: str,
        supervised_by: str | None,
    ) -> RecordsHandedOver:
        """移交: the archive department (``user``) takes over a year's records from the accounting
        department (``handed_over_by``, whose offer it accepts), after re-checking every
        original. Refused whole if any check fails.

        An interrupted handover of the same year is completed as it was started instead. Of
        requests for one fonds and year at once, one hands over and the others are refused:
        the year is marked as under way *before* its records are read.
        """
        await self._permissions.require_fonds(user, Action.ACCEPT_HANDOVER, fonds_code)
        unfinished = await self._handovers.unfinished(fonds_code, fiscal_year)
        if unfinished:
            return await self._complete(*unfinished[0])
        handover_id = uuid.uuid4()
        await self._handovers.open(fonds_code, fiscal_year, handover_id)
        try:
            handover, volumes = await self._prepare(
                handover_id, fonds_code, fiscal_year, user, handed_over_by, supervised_by
            )
            await self._handovers.start(handover, volumes)
        except BaseException:
            await self._handovers.close(fonds_code, fiscal_year, handover_id)
            raise
        return await self._complete(handover, volumes)

    async def _prepare(
        self,
        handover_id: uuid.UUID,
        fonds_code: str,
        fiscal_year: int,
        user: Person,
        handed_over_by: str,
        supervised_by: str | None,
    ) -> tuple[RecordsHandedOver, list[BoundVolume]]:
        """The handover of what the accounting department holds now, once every record passes
        its re-check; HandoverRefused naming every reason at once, so that one visit to the
        archive department mends them all."""
        records = await self._records.in_accounting_custody(fonds_code, fiscal_year)
        if not records:
            raise HandoverRefused(
                f"no records of {fonds_code} {fiscal_year} are with the accounting department"
            )
        findings = await self._integrity.findings_of((r.record_id for r in records), Stage.HANDOVER)
        reasons = [
            f"re-check {finding.item.code} failed for {r.archive_code}: "
            f"{finding.filename}: {finding.detail}"
            for r in records
            for finding in findings[r.record_id]
        ]
        reasons += [
            f"{r.archive_code} still awaits an archivist's review"
            for r in records
            if await self._records.awaiting_review(r.record_id)
        ]
        # 2-6 and the 归档范围: a year is handed over complete, or with its gaps waived.
        year, waived = await self._completeness.of_year(fonds_code, fiscal_year)
        reasons += [
            f"incomplete: {gap.id} — {gap.missing} (an archivist may waive it with a reason: "
            "POST /v1/completeness/waivers)"
            for gap in year.open_gaps
        ]
        if reasons:
            raise HandoverRefused("; ".join(reasons))
        # Bound now, numbered after any volumes of the year bound at an earlier handover.
        first = next_number(await self._handovers.bound_volumes(fonds_code, fiscal_year))
        volumes = bind(assemble(records, first))
        handover = RecordsHandedOver(
            handover_id=handover_id,
            fonds_code=fonds_code,
            fiscal_year=fiscal_year,
            record_ids=tuple(r.record_id for r in records),
            volumes=len(volumes),
            handed_over_by=handed_over_by,
            received_by=user.name,
            supervised_by=supervised_by,
            handed_over_at=utc_now(),
            waived=tuple(waived),
        )
        return handover, volumes

    async def _complete(
        self, handover: RecordsHandedOver, volumes: list[BoundVolume]
    ) -> RecordsHandedOver:
        """Apply a started handover; every step repeat-safe, the event under a derived id."""
        await self._handovers.claim(handover)
        await self._handovers.bind(handover, volumes)
        await self._records.move_to_archive(handover)
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
        await self._handovers.finish(handover)
        return handover

    async def resume_handovers(self) -> None:
        """At start: complete the handovers a crash interrupted."""
        for started, volumes in await self._handovers.unfinished():
            log.warning("completing an interrupted handover", handover=str(started.handover_id))
            await self._complete(started, volumes)

    async def extend_custody(
        self, fonds_code: str, fiscal_year: int, extended_years: int, reason: str, user: Person
    ) -> CustodyExtended:
        """The archive department (``user``) consents to a longer temporary custody (第十一条)."""
        await self._permissions.require_fonds(user, Action.ACCEPT_HANDOVER, fonds_code)
        if not await self._records.in_accounting_custody(fonds_code, fiscal_year):
            raise CustodyConflict(
                f"no records of {fonds_code} {fiscal_year} are with the accounting department"
            )
        current = (await self._handovers.custody_extensions(fonds_code)).get(fiscal_year, 0)
        extended = CustodyExtended(
            fonds_code=fonds_code,
            fiscal_year=fiscal_year,
            extended_years=extended_years,
            custody_until=extended_custody(fiscal_year, extended_years, current),
            reason=reason,
            consented_by=user.name,
            extended_at=utc_now(),
        )
        async with self._unit():
            if not await self._handovers.extend_custody(extended.model_dump(mode="json")):
                raise CustodyConflict(
                    f"custody of {fiscal_year} was extended meanwhile as far or further: "
                    "see the custody register, then ask again"
                )
            await self._publisher.publish(
                new_event(
                    extended,
                    source=self._source,
                    subject=f"{fonds_code}|{fiscal_year}",
                    correlation_id=str(uuid.uuid4()),
                    actor=user.name,
                )
            )
        return extended

    async def custody_overdue(
        self, fonds_code: str, as_of: date, user: Person
    ) -> list[dict[str, Any]]:
        """Years whose records are still with the accounting department past temporary custody,
        counting the extensions the archive department consented to."""
        await self._permissions.require_fonds(user, "read", fonds_code)
        extensions = await self._handovers.custody_extensions(fonds_code)
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
