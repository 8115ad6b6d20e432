"""Archive's use case for the voucher a correction names (会计基础工作规范 第五十一条(五)): found at
accession, or, when it is not archived yet (the original still on its way), waited for and
linked once it is.

Of a correction and its voucher archived at once, in either order, each writes first (the
correction its wait, the voucher its record) and then reads for the other: one of them finds the
other, and the link is made once (``CorrectionLinked``, under an id derived from the correction).
"""

from __future__ import annotations

from archive.domain.corrections import CODE, WaitingCorrection, named
from archive.ports import ArchiveRecords, CorrectionStore, Publisher
from contracts.envelope import derived_event_id, new_event
from contracts.events import CorrectionLinked, DocumentIngested, RecordArchived
from contracts.records import CorrectionLink
from contracts.types import utc_now
from servicekit.database import UnitOfWork


class Corrections:
    def __init__(
        self,
        records: ArchiveRecords,
        waiting: CorrectionStore,
        publisher: Publisher,
        source: str,
        unit: UnitOfWork,
    ) -> None:
        self._records = records
        self._waiting = waiting
        self._publisher = publisher
        self._source = source
        self._unit = unit

    async def corrected_by(self, doc: DocumentIngested) -> RecordArchived | None:
        """The kept record a correction names, by 档号 or as the ERP knows the voucher, in the
        correction's own fonds (None: not a correction, or not held)."""
        name = named(doc)
        if name is None:
            return None
        if name.startswith(CODE):
            corrected = await self._records.by_code(name.removeprefix(CODE))
        else:
            found = await self._records.holder_of(name)
            corrected = await self._records.get(found) if found else None
        if corrected is None or corrected.fonds_code != doc.fonds_code:
            return None
        return corrected

    async def on_archived(self, doc: DocumentIngested, record: RecordArchived, key: str) -> None:
        """After accession, and again on a redelivery (repeat-safe): a correction not linked
        waits under the name it gives, and is linked at once if that voucher is archived by now;
        the corrections waiting for this record (by ``key``, its natural key, or by its 档号)
        are linked to it."""
        name = named(doc)
        if name is not None and record.corrects is None:
            assert doc.correction is not None
            waiting = WaitingCorrection(name, doc.fonds_code, record.record_id, doc.correction.kind)
            await self._waiting.wait(waiting)
            if (corrected := await self.corrected_by(doc)) is not None:
                await self._link(waiting, record, corrected)
        names = [key, CODE + record.archive_code]
        for waiting in await self._waiting.waiting_for(names, record.fonds_code):
            if (correction := await self._records.get(waiting.record_id)) is not None:
                await self._link(waiting, correction, record)

    async def _link(
        self, waiting: WaitingCorrection, correction: RecordArchived, corrected: RecordArchived
    ) -> None:
        link = CorrectionLink(
            kind=waiting.kind, record_id=corrected.record_id, archive_code=corrected.archive_code
        )
        linked = CorrectionLinked(
            correction_record_id=correction.record_id,
            correction_archive_code=correction.archive_code,
            kind=waiting.kind,
            corrected_record_id=corrected.record_id,
            corrected_archive_code=corrected.archive_code,
            fonds_code=correction.fonds_code,
            linked_at=utc_now(),
        )
        async with self._unit():
            if await self._waiting.link(correction.record_id, link):
                await self._publisher.publish(
                    new_event(
                        linked,
                        source=self._source,
                        subject=str(correction.record_id),
                        correlation_id=str(correction.record_id),
                        event_id=derived_event_id(correction.record_id, CorrectionLinked),
                    )
                )
