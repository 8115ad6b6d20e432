"""Handing over (移交, 第十一条): a year's records pass from the accounting department's temporary
custody to the archive department, after a re-check of each, supervised (第二十四条), its
移交清册 kept as a record; custody extended with consent."""

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
    NotNamed,
    custody_due,
    extended_custody,
)
from archive.domain.retention import RETENTION_RULES
from archive.domain.volumes import BoundVolume, assemble, bind, next_number
from archive.ports import (
    HandoverListKeeper,
    HandoverRecords,
    HandoverStore,
    Integrity,
    Permissions,
    Publisher,
)
from contracts.checks import Stage
from contracts.envelope import derived_event_id, new_event
from contracts.events import CustodyExtended, HandoverSupervised, RecordsHandedOver
from contracts.records import RecordCategory
from contracts.roles import Action
from contracts.types import utc_now
from servicekit.auth import Person
from servicekit.database import UnitOfWork

log = structlog.get_logger()
LIST_RETENTION = RETENTION_RULES[RecordCategory.HANDOVER_LIST].period.code


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
        lists: HandoverListKeeper,
    ) -> None:
        self._lists = lists
        self._unit = unit
        self._completeness = completeness
        self._records = records
        self._handovers = handovers
        self._integrity = integrity
        self._publisher = publisher
        self._permissions = permissions
        self._source = source

    async def offer(
        self, fonds_code: str, fiscal_year: int, *, user: Person, supervised_by: str
    ) -> HandoverOffer:
        """移交, first step: the accounting department (``user``, 移交人) offers a year's records
        it holds, naming its 监交人; the open offer of that year if one was made already."""
        await self._permissions.require_fonds(user, Action.HAND_OVER, fonds_code)
        if supervised_by == user.name:
            raise DutiesSeparated(f"{user.name} offers this handover: another person supervises")
        if not await self._records.in_accounting_custody(fonds_code, fiscal_year):
            raise HandoverRefused(
                f"no records of {fonds_code} {fiscal_year} are with the accounting department"
            )
        offer = HandoverOffer(
            uuid.uuid4(), fonds_code, fiscal_year, user.name, utc_now(), None, supervised_by
        )
        return await self._handovers.offer(offer)

    async def supervise(self, offer_id: uuid.UUID, *, user: Person) -> HandoverSupervised:
        """The 监交人 the offer names confirms it with their own sign-in (监交, 第二十四条);
        asked again, the same confirmation."""
        offer = await self._handovers.offer_of(offer_id)
        if offer is None:
            raise NotFound(f"no handover offer {offer_id}")
        if offer.supervised_by != user.name:
            raise NotNamed(
                f"offer {offer_id} names {offer.supervised_by or 'no one'} as its 监交人, "
                f"not {user.name}"
            )
        if offer.handover_id is not None and offer.supervised_at is None:
            raise HandoverRefused(f"offer {offer_id} was accepted by handover {offer.handover_id}")
        supervised = HandoverSupervised(
            offer_id=offer_id,
            fonds_code=offer.fonds_code,
            fiscal_year=offer.fiscal_year,
            offered_by=offer.offered_by,
            supervised_by=user.name,
            supervised_at=offer.supervised_at or utc_now(),
        )
        async with self._unit():  # the confirmation and its announcement, together
            noted = offer.supervised_at is not None or await self._handovers.supervised(
                offer_id, user.name, supervised.supervised_at
            )
            if noted:
                await self._publisher.publish(
                    new_event(
                        supervised,
                        source=self._source,
                        subject=str(offer_id),
                        correlation_id=str(offer_id),
                        actor=user.name,
                        event_id=derived_event_id(offer_id, HandoverSupervised),
                    )
                )
        if not noted:  # confirmed meanwhile by another request: answer with that confirmation
            return await self.supervise(offer_id, user=user)
        return supervised

    async def accept(self, offer_id: uuid.UUID, *, user: Person) -> RecordsHandedOver:
        """移交, last step: an archivist (``user``, 接收人) accepts a supervised offer after the
        re-check; never the person who offered or supervised it."""
        offer = await self._handovers.offer_of(offer_id)
        if offer is None:
            raise NotFound(f"no handover offer {offer_id}")
        await self._permissions.require_fonds(user, Action.ACCEPT_HANDOVER, offer.fonds_code)
        if user.name in (offer.offered_by, offer.supervised_by):
            duty = "offered" if offer.offered_by == user.name else "supervises"
            raise DutiesSeparated(f"{user.name} {duty} this handover: another person accepts it")
        if offer.handover_id is not None:
            raise HandoverRefused(f"offer {offer_id} was accepted by handover {offer.handover_id}")
        if offer.supervised_at is None:
            raise HandoverRefused(
                f"offer {offer_id} waits for its 监交人 {offer.supervised_by or '(none named)'} "
                f"to confirm it: POST /v1/handover-offers/{offer_id}/supervision"
            )
        handover = await self.hand_over(
            offer.fonds_code,
            offer.fiscal_year,
            user=user,
            offer=offer,
        )
        await self._handovers.accepted(offer_id, handover.handover_id)
        return handover

    async def hand_over(
        self,
        fonds_code: str,
        fiscal_year: int,
        *,
        user: Person,
        offer: HandoverOffer,
    ) -> RecordsHandedOver:
        """移交: the archive department (``user``) takes over a year's records from the accounting
        department (whose ``offer`` it accepts, its 监交人 having confirmed it), after
        re-checking every original. Refused whole if any check fails.

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
                handover_id, fonds_code, fiscal_year, user, offer
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
        offer: HandoverOffer,
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
        list_code, list_id = await self._lists.numbered(fonds_code, fiscal_year, handover_id)
        handover = RecordsHandedOver(
            handover_id=handover_id,
            fonds_code=fonds_code,
            fiscal_year=fiscal_year,
            record_ids=tuple(r.record_id for r in records),
            volumes=len(volumes),
            handed_over_by=offer.offered_by,
            received_by=user.name,
            supervised_by=offer.supervised_by,
            handed_over_at=utc_now(),
            waived=tuple(waived),
            offered_at=offer.offered_at,
            supervised_at=offer.supervised_at,
            handover_list=list_code,
            handover_list_record_id=list_id,
        )
        # The list is filed with what it lists: bound in a volume of its own, after theirs.
        filed = BoundVolume(
            first + len(volumes), fiscal_year, None, LIST_RETENTION, (str(list_id),)
        )
        return handover, [*volumes, filed]

    async def _complete(
        self, handover: RecordsHandedOver, volumes: list[BoundVolume]
    ) -> RecordsHandedOver:
        """Apply a started handover; every step repeat-safe, the event under a derived id."""
        await self._handovers.claim(handover)
        await self._handovers.bind(handover, volumes)
        await self._lists.archive(handover, volumes)  # before its records move: it lists them
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
