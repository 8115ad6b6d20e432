"""Archive's use cases: accession of ingested documents; reading, searching and drilling through."""

from __future__ import annotations

import uuid
from dataclasses import asdict, replace
from typing import Any

import structlog

from archive.access import require_record
from archive.approval_records import ApprovalRecords
from archive.domain.archive_code import ArchiveCodeRule
from archive.domain.lifecycle import LegalHold, NotFound, unsettled
from archive.domain.package import package_documents
from archive.domain.record import (
    archive,
    base_code,
    object_lock,
    placement,
)
from archive.domain.search import Hits, SearchCriteria
from archive.late_corrections import Corrections
from archive.paper_archives import PaperArchives
from archive.ports import (
    AccessDenied,
    ArchiveRecords,
    HoldStore,
    OriginalStore,
    Permissions,
    Publisher,
    RecordIndex,
)
from archive.reads import Reader, ReadLog
from contracts.checks import CHECK_1_1
from contracts.envelope import derived_event_id, new_event
from contracts.events import (
    ApprovalDecidedEvent,
    DocumentIngested,
    DocumentIngestedEvent,
    IntegrityAlertRaised,
    LegalHoldPlaced,
    RecordArchived,
    RecordReviewed,
)
from contracts.records import CorrectionLink, material_key, voucher_key
from contracts.types import utc_now
from servicekit.auth import Person
from servicekit.database import UnitOfWork
from servicekit.deadletter import Refused

log = structlog.get_logger()


class ArchivedAlready(Refused):
    """A document whose voucher (or material) another record holds: archiving it would make a
    second record."""


def record_key_of(doc: DocumentIngested) -> str:
    """The natural key of what a document is: a voucher's, or a material's."""
    if doc.material is not None:
        return material_key(
            fonds_code=doc.fonds_code,
            company_name=doc.company_name,
            fiscal_year=doc.fiscal_year,
            material=doc.material,
        )
    assert doc.voucher is not None
    return voucher_key(
        fonds_code=doc.fonds_code,
        company_name=doc.company_name,
        fiscal_year=doc.fiscal_year,
        period=doc.period,
        voucher_no=doc.voucher.voucher_no,
        corrects=doc.corrects_archive_code,  # set only before corrections had their own key
    )


class ArchiveService:
    def __init__(
        self,
        records: ArchiveRecords,
        index: RecordIndex,
        store: OriginalStore,
        publisher: Publisher,
        permissions: Permissions,
        rule: ArchiveCodeRule,
        source: str,
        approval_records: ApprovalRecords,
        unit: UnitOfWork,
        corrections: Corrections,
        holds: HoldStore,
        paper: PaperArchives,
    ) -> None:
        self._holds = holds
        self._paper = paper
        self._unit = unit
        self._corrections = corrections
        self._reads = ReadLog(publisher, source)
        self._approval_records = approval_records
        self._records = records
        self._index = index
        self._store = store
        self._publisher = publisher
        self._permissions = permissions
        self._rule = rule
        self._source = source

    # --- accession (归档) ---------------------------------------------------------------------

    async def on_document_ingested(self, event: DocumentIngestedEvent) -> None:
        """Accession is idempotent by its natural key: a record's id is its document's id. A
        redelivery finds the record and publishes the same RecordArchived again (same event id),
        which consumers skip; no register of handled event ids is needed here."""
        doc = event.data
        record = await self._records.get(doc.document_id)
        if record is None:
            # What is locked is what ingest announced, byte for byte, or nothing is archived.
            sources = await self._verified_sources(doc)
            # Never archive a voucher twice: its natural key is taken before a number is.
            holder = await self._records.claim_key(record_key_of(doc), doc.document_id)
            if holder != doc.document_id:
                raise ArchivedAlready(
                    f"{doc.title} of {doc.fonds_code} {doc.fiscal_year}-{doc.period:02d} "
                    f"is archived already as record {holder}"
                )
            where = placement(doc, self._rule)
            seq = await self._records.next_sequence(where.scope, str(doc.document_id))
            record = archive(
                doc,
                where,
                seq,
                self._rule,
                bucket=self._store.bucket,
                at=utc_now(),
                corrected=await self._corrections.corrected_by(doc),
            )
            lock = object_lock(
                record.retention, record.retention_until, utc_now(), record.fiscal_year
            )
            held = unsettled(record, doc.submitted_by)
            if held is not None:  # held in the store from the first byte (第十九条)
                lock = replace(lock, legal_hold=True)
            versions: dict[str, str | None] = {}
            # Copy under lock before the record exists: no record without its bytes.
            for source, kept in zip(doc.files, record.originals, strict=True):
                versions[kept.object_key] = await self._store.copy_locked_from(
                    source.bucket,
                    source.object_key,
                    kept.object_key,
                    until=lock.until,
                    legal_hold=lock.legal_hold,
                    source_version=sources[source.object_key],  # the version hashed
                )
            for key, data, media_type in package_documents(record):
                versions[key] = await self._store.put_locked(
                    key, data, media_type, until=lock.until, legal_hold=lock.legal_hold
                )
            async with self._unit():  # the record and its announcement, together
                record = await self._records.add(record, versions)
                if await self._records.get(record.record_id) != record:  # 3-2, as reported
                    raise ConnectionError(
                        f"record {record.record_id} does not read back as written"
                    )
                await self._announce(record, event)
                if held is not None:
                    await self._hold_unsettled(record, held, event)
            await self._index.add(record)
            log.info(
                "record archived", record_id=str(record.record_id), archive_code=record.archive_code
            )
        else:
            # A redelivery (or one under a new event id): the same fact again, which consumers
            # skip — one record, one RecordArchived id.
            await self._announce(record, event)
        # Linked to its OA approval record, or waiting for it: again on a redelivery (repeat-safe).
        await self._approval_records.on_voucher_archived(record, event.correlationid)
        # A correction and what it corrects, whichever came first (repeat-safe too).
        await self._corrections.on_archived(doc, record, record_key_of(doc))

    async def _hold_unsettled(
        self, record: RecordArchived, hold: LegalHold, event: DocumentIngestedEvent
    ) -> None:
        """The ERP's 未结清 mark, kept as the legal hold an archivist would place: listed apart
        at appraisal, never destroyed, released by an archivist once the matter is settled."""
        await self._holds.change(record.record_id, 0, hold)
        await self._publisher.publish(
            new_event(
                LegalHoldPlaced(
                    record_id=record.record_id,
                    archive_code=record.archive_code,
                    reason=hold.reason,
                    placed_by=hold.placed_by,
                    placed_at=hold.placed_at,
                ),
                source=self._source,
                subject=str(record.record_id),
                correlation_id=event.correlationid,
                cause=event,
                actor=hold.placed_by,
                event_id=derived_event_id(record.record_id, LegalHoldPlaced),
            )
        )

    async def _announce(self, record: RecordArchived, event: DocumentIngestedEvent) -> None:
        await self._publisher.publish(
            new_event(
                record,
                source=self._source,
                subject=str(record.record_id),
                correlation_id=event.correlationid,
                cause=event,
                actor=event.actor,
                event_id=derived_event_id(record.record_id, RecordArchived),
            )
        )

    async def versions(self, record_id: uuid.UUID, reader: Reader) -> list[dict[str, Any]]:
        """Every version of a record (the original and its corrections), oldest first."""
        record, _ = await self._readable(record_id, reader)
        visible = await self._permissions.visibility(reader, "read")
        shown = [
            v
            for v in await self._index.versions(base_code(record.archive_code))
            if visible.sees(str(v["fonds_code"]), str(v["record_id"]))
        ]
        read = [(uuid.UUID(str(v["record_id"])), str(v["fonds_code"])) for v in shown]
        await self._reads.read(reader, "view", read)
        return shown

    async def _verified_sources(self, doc: DocumentIngested) -> dict[str, str | None]:
        """Each original in the ingest bucket hashed again (SHA-256 and SM3) against the event,
        before anything is numbered or locked: the version that agrees, by object key. One that
        does not is an integrity alert (1-1) and the document is refused, never archived."""
        versions: dict[str, str | None] = {}
        for f in doc.files:
            found, version = await self._store.digest_from(f.bucket, f.object_key)
            if (found.sha256, found.sm3) != (f.sha256, f.sm3):
                alert = IntegrityAlertRaised(
                    record_id=doc.document_id,
                    archive_code="(not archived)",
                    filename=f.filename,
                    object_key=f.object_key,
                    expected_sha256=f.sha256,
                    found_sha256=found.sha256,
                    detail="the original in the ingest bucket differs from the digests ingest "
                    "announced (SHA-256 and SM3): not archived",
                    detected_at=utc_now(),
                    check_code=CHECK_1_1.code,
                )
                await self._publisher.publish(
                    new_event(
                        alert,
                        source=self._source,
                        subject=str(doc.document_id),
                        correlation_id=str(doc.document_id),
                        event_id=derived_event_id(
                            doc.document_id, IntegrityAlertRaised, f.object_key
                        ),
                    )
                )
                raise Refused(f"{f.filename} ({f.object_key}): {alert.detail}")
            versions[f.object_key] = version
        return versions

    async def on_record_archived(self, record: RecordArchived) -> None:
        """Another archive process archived a record: index it here too (repeat-safe)."""
        await self._index.add(record)

    async def on_record_reviewed(self, reviewed: RecordReviewed) -> None:
        """A record was reviewed (here or in another archive process): update the index."""
        await self._index.reviewed(str(reviewed.record_id))

    async def on_approval_decided(self, event: ApprovalDecidedEvent) -> None:
        """Remember the OA approval on each record it concerns, for drill-through."""
        await self._records.add_approval(event.data)

    # --- reading ------------------------------------------------------------------------------

    async def _readable(
        self, record_id: uuid.UUID, user: Person
    ) -> tuple[RecordArchived, uuid.UUID | None]:
        record = await self._records.get(record_id)
        if record is None:
            raise NotFound(f"no archive record {record_id}")
        missing = f"no archive record {record_id}"
        grant = await require_record(self._permissions, user, "read", record_id, missing)
        return record, grant

    async def get(self, record_id: uuid.UUID, reader: Reader) -> RecordArchived:
        record, grant = await self._readable(record_id, reader)
        await self._reads.read(reader, "view", [(record_id, record.fonds_code)], grant_id=grant)
        return record

    async def search(
        self,
        criteria: SearchCriteria,
        reader: Reader,
        limit: int,
        offset: int,
        with_total: bool = False,
    ) -> Hits:
        """Records matching ``criteria`` among those ``reader`` may see, as result-list
        entries; the page shown is on record."""
        visible = await self._permissions.visibility(reader, "read")
        if criteria.fonds_code and not visible.by_role(criteria.fonds_code):
            raise AccessDenied(f"{reader.name} holds no role in fonds {criteria.fonds_code}")
        hits = await self._index.search(criteria, visible, limit, offset, with_total=with_total)
        shown = [(uuid.UUID(h["record_id"]), str(h["fonds_code"])) for h in hits.items]
        query = asdict(criteria) | {"offset": offset}
        await self._reads.read(reader, "search", shown, query=query)
        return hits

    async def drill_down(self, record_id: uuid.UUID, reader: Reader) -> dict[str, Any]:
        """穿透查询 from a voucher: its attachments, e-invoices and the OA approvals touching it."""
        record, grant = await self._readable(record_id, reader)
        approvals = await self._records.approvals(record_id)
        visible = await self._permissions.visibility(reader, "read")
        if not visible.by_role(record.fonds_code):
            # A borrower sees the record by their grant, and their own requests: not who else
            # borrowed it.
            approvals = [a for a in approvals if a.get("applicant") == reader.name]
        await self._reads.read(reader, "drill", [(record_id, record.fonds_code)], grant_id=grant)
        return {
            "record": record.model_dump(mode="json"),
            "voucher": record.voucher.model_dump(mode="json") if record.voucher else None,
            "attachments": [
                f.model_dump(mode="json") for f in record.originals if f.role == "attachment"
            ],
            "invoices": [i.model_dump(mode="json") for i in record.invoices],
            "approvals": approvals,  # the borrowings of the record
            # A correction and the record it corrects, shown from either side (第五十一条(五)).
            "corrects": record.corrects.model_dump(mode="json") if record.corrects else None,
            "corrected_by": [
                CorrectionLink(
                    kind=c.corrects.kind, record_id=c.record_id, archive_code=c.archive_code
                ).model_dump(mode="json")
                for c in await self._records.corrections_of(record_id)
                if c.corrects and visible.sees(c.fonds_code, str(c.record_id))
            ],
            **await self._approval_records.drilled(record, visible),
            **await self._paper.drilled(record_id),
        }

    async def drill_up(
        self, reader: Reader, *, invoice_number: str | None = None, sha256: str | None = None
    ) -> dict[str, Any]:
        """穿透查询 from an invoice (its number) or any original, a bank receipt say (its
        SHA-256): the voucher holding it, with everything linked to it."""
        if invoice_number:
            record_id, what = await self._index.holding_invoice(invoice_number), "this invoice"
        elif sha256:
            record_id, what = await self._index.holding_file(sha256), "this file"
        else:
            raise ValueError("give invoice_number or sha256")
        # Held nowhere, or held where the reader may not look: one answer, byte for byte (the
        # record's id, or words that differ, would tell another fonds' invoice is archived).
        nowhere = NotFound(f"no archived record you may read holds {what}")
        if record_id is None:
            raise nowhere
        try:
            return await self.drill_down(uuid.UUID(record_id), reader)
        except NotFound:
            raise nowhere from None
