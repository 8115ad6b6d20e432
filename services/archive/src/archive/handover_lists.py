"""移交清册 kept as records (附表1: 30年): a handover's list, with the three who signed it in
the platform printed on it (``archive.domain.handover_list``), archived as PDF and XLSX in the
handover itself; its 档号 travels in ``RecordsHandedOver``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import structlog

from archive.domain.archive_code import ArchiveCodeRule
from archive.domain.handover_list import handover_list_id, list_placement, list_record, signatures
from archive.domain.registers import handover_list
from archive.domain.volumes import BoundVolume, year_volumes
from archive.made_records import File, keep_made_record
from archive.ports import ListRecords, OriginalStore, Publisher, RecordIndex, RegisterRenderer
from contracts.envelope import derived_event_id, new_event
from contracts.events import RecordArchived, RecordsHandedOver
from contracts.formats import XLSX

log = structlog.get_logger()


class HandoverLists:
    def __init__(
        self,
        records: ListRecords,
        index: RecordIndex,
        store: OriginalStore,
        files: RegisterRenderer,
        publisher: Publisher,
        rule: ArchiveCodeRule,
        source: str,
    ) -> None:
        self._records, self._index, self._store, self._files = records, index, store, files
        self._publisher, self._rule, self._source = publisher, rule, source

    async def numbered(
        self, fonds_code: str, fiscal_year: int, handover_id: uuid.UUID
    ) -> tuple[str, uuid.UUID]:
        """The list's 档号 and record id, given once per handover (asked again: the same)."""
        record_id = handover_list_id(handover_id)
        where = list_placement(fonds_code, fiscal_year, self._rule)
        seq = await self._records.next_sequence(where.scope, str(record_id))
        return where.archive_code(seq, self._rule), record_id

    async def archive(
        self, handover: RecordsHandedOver, volumes: Sequence[BoundVolume]
    ) -> RecordArchived | None:
        """Archive the handover's list once; repeat-safe (a resumed handover announces it
        again, under the same event id). None for a handover made before lists were kept."""
        code, record_id = handover.handover_list, handover.handover_list_record_id
        if code is None or record_id is None:
            return None
        record = await self._records.get(record_id) or await self._keep(handover, volumes, code)
        await self._publisher.publish(
            new_event(
                record,
                source=self._source,
                subject=str(record_id),
                correlation_id=str(handover.handover_id),
                actor=handover.received_by,
                event_id=derived_event_id(record_id, RecordArchived),
            )
        )
        return record

    async def _keep(
        self, handover: RecordsHandedOver, volumes: Sequence[BoundVolume], code: str
    ) -> RecordArchived:
        handed = {str(i) for i in handover.record_ids}
        listed = [v for v in volumes if set(v.record_ids) <= handed]  # not the list's own
        year = await self._records.of_year(handover.fonds_code, handover.fiscal_year)
        register = handover_list(
            handover.fonds_code,
            handover.fiscal_year,
            year_volumes((r for r, _ in year if str(r.record_id) in handed), listed),
            handover.waived,
            as_of=handover.handed_over_at.date(),
            signed=signatures(handover),
            archive_code=code,
        )
        pdf, xlsx = await self._files.render(register, handover.handed_over_at)
        name = f"{code}-移交清册"
        files: list[File] = [
            (f"{name}.pdf", "attachment", "application/pdf", pdf),
            (f"{name}.xlsx", "attachment", XLSX, xlsx),
        ]
        where = list_placement(handover.fonds_code, handover.fiscal_year, self._rule)
        record = await keep_made_record(
            files,
            code,
            lambda originals: list_record(handover, where, code, self._rule, originals),
            handover.handed_over_at,
            store=self._store,
            records=self._records,
            index=self._index,
        )
        log.info("handover list archived", handover=str(handover.handover_id), archive_code=code)
        return record
