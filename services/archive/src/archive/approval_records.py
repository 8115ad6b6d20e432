"""Approval records: the approval form (审批单) of an expense or payment approval finished in an
OA, archived as a source document of its own and linked to the voucher it justified by a
business key both carry, whichever arrives first. A voucher the fonds expects an approval for
waits; past the configured wait it is listed for the archivist (check item
AAP-APPROVAL-RECORD)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import structlog

from archive.domain.approval_record import (
    ExpectedApprovals,
    Waiting,
    approval_json,
    approval_placement,
    approval_record,
    approval_record_id,
    fiscal_of,
    key_id,
    voucher_keys,
)
from archive.domain.archive_code import ArchiveCodeRule
from archive.domain.search import Visibility
from archive.made_records import File, keep_made_record
from archive.ports import (
    AccessDenied,
    ApprovalLinks,
    ApprovalRenderer,
    ArchiveRecords,
    OriginalStore,
    Permissions,
    Publisher,
    RecordIndex,
)
from archive.reads import Reader, ReadLog
from contracts.checks import CHECK_APPROVAL_RECORD
from contracts.envelope import derived_event_id, new_event
from contracts.events import (
    ApprovalRecordLinked,
    BusinessKey,
    OaApprovalCompleted,
    OaApprovalCompletedEvent,
    RecordArchived,
)
from contracts.records import CheckOutcome
from contracts.types import utc_now
from servicekit.database import UnitOfWork

log = structlog.get_logger()


class ApprovalRecords:
    def __init__(
        self,
        records: ArchiveRecords,
        index: RecordIndex,
        store: OriginalStore,
        links: ApprovalLinks,
        renderer: ApprovalRenderer,
        publisher: Publisher,
        permissions: Permissions,
        rule: ArchiveCodeRule,
        expected: Mapping[str, ExpectedApprovals],
        source: str,
        unit: UnitOfWork,
    ) -> None:
        self._unit = unit
        self._records, self._index, self._store, self._links = records, index, store, links
        self._renderer, self._publisher, self._permissions = renderer, publisher, permissions
        self._rule, self._expected, self._source = rule, expected, source
        self._reads = ReadLog(publisher, source)

    async def on_approval_completed(self, event: OaApprovalCompletedEvent) -> None:
        """Archive the approval once (its record id follows from its key), then link it to each
        voucher already archived under one of its keys. Repeat-safe at every step."""
        approval = event.data
        record_id = approval_record_id(approval.approval_key)
        await self._links.keep_approval(record_id, approval)
        record = await self._records.get(record_id) or await self._archive(approval, record_id)
        await self._publisher.publish(
            new_event(
                record,
                source=self._source,
                subject=str(record_id),
                correlation_id=event.correlationid,
                cause=event,
                actor=record.submitted_by,
                event_id=derived_event_id(record_id, RecordArchived),
            )
        )
        year, _ = fiscal_of(approval)
        for key in approval.business_keys:
            vouchers = await self._links.meet(
                key_id(approval.fonds_code, year, key), "approval", record_id, "voucher"
            )
            if key.kind == "voucher_no" and len(vouchers) > 1:
                log.warning("voucher number held by several vouchers: not linked", key=key.value)
                continue
            for voucher_id in vouchers:
                if voucher := await self._records.get(voucher_id):
                    await self._link(voucher, record, key, event.correlationid)

    async def _archive(self, approval: OaApprovalCompleted, record_id: uuid.UUID) -> RecordArchived:
        where = approval_placement(approval, self._rule)
        seq = await self._records.next_sequence(where.scope, str(record_id))
        code = where.archive_code(seq, self._rule)
        files: list[File] = [
            (
                "审批单.pdf",
                "attachment",
                "application/pdf",
                await self._renderer.render(approval, code),
            ),
            ("approval.json", "source_export", "application/json", approval_json(approval)),
        ]  # to read, and as the OA reported it
        now = utc_now()
        record = await keep_made_record(
            files,
            code,
            lambda originals: approval_record(approval, where, code, self._rule, originals, now),
            now,
            store=self._store,
            records=self._records,
            index=self._index,
        )
        log.info("OA approval archived", record_id=str(record_id), archive_code=record.archive_code)
        return record

    async def on_voucher_archived(self, voucher: RecordArchived, correlation_id: str) -> None:
        """A voucher is archived (or its archiving repeated): it waits for its approval record
        if its fonds expects one, and is linked to any approval record already archived under
        one of its keys. Waiting is noted before the keys, so a link made meanwhile ends it."""
        if voucher.voucher is None:
            return
        expected = self._expected.get(voucher.fonds_code)
        waits = expected is not None and expected.expects(voucher)
        if waits:
            await self._links.await_approval(
                Waiting(
                    record_id=voucher.record_id,
                    fonds_code=voucher.fonds_code,
                    archive_code=voucher.archive_code,
                    voucher_no=voucher.voucher.voucher_no,
                    summary=voucher.voucher.summary,
                    since=voucher.archived_at,
                )
            )
        for key in voucher_keys(voucher):
            where = key_id(voucher.fonds_code, voucher.fiscal_year, key)
            for approval_id in await self._links.meet(
                where, "voucher", voucher.record_id, "approval"
            ):
                if approval := await self._records.get(approval_id):
                    await self._link(voucher, approval, key, correlation_id)
        # A repeat re-notes the wait of a voucher linked before: ended again. (Only a voucher
        # that waits can have been noted: the others cost no read here.)
        if waits and await self._links.links_of(voucher.record_id):
            await self._links.arrived(voucher.record_id)

    async def _link(
        self, voucher: RecordArchived, approval: RecordArchived, key: BusinessKey, correlation: str
    ) -> None:
        if voucher.fonds_code != approval.fonds_code:
            return  # an invoice number is national; one company's approval is not another's
        link = ApprovalRecordLinked(
            voucher_record_id=voucher.record_id,
            voucher_archive_code=voucher.archive_code,
            approval_record_id=approval.record_id,
            approval_archive_code=approval.archive_code,
            fonds_code=voucher.fonds_code,
            key=key,
            linked_at=utc_now(),
        )
        pair = f"{voucher.record_id}|{approval.record_id}"
        async with self._unit():  # the link, the voucher no longer waiting, and their event
            await self._links.link(link)
            await self._links.arrived(voucher.record_id)
            await self._publisher.publish(
                new_event(
                    link,
                    source=self._source,
                    subject=str(voucher.record_id),
                    correlation_id=correlation,
                    event_id=derived_event_id(pair, ApprovalRecordLinked),
                )
            )
        log.info(
            "approval record linked", voucher=voucher.archive_code, approval=approval.archive_code
        )

    # --- reading ------------------------------------------------------------------------------

    async def awaiting(self, fonds_code: str, reader: Reader) -> list[dict[str, Any]]:
        """The fonds' vouchers still without their approval record past the wait: the
        archivist's list (check item AAP-APPROVAL-RECORD failed for each)."""
        visible = await self._permissions.visibility(reader, "read")
        if not visible.by_role(fonds_code):
            raise AccessDenied(f"{reader.name} holds no role in fonds {fonds_code}")
        expected = self._expected.get(fonds_code)
        due: list[Waiting] = []
        if expected is not None:
            now = utc_now()
            due = [
                w for w in await self._links.waiting(fonds_code) if w.since + expected.wait <= now
            ]
        shown = [(w.record_id, w.fonds_code) for w in due]
        await self._reads.read(reader, "search", shown, query={"awaiting_approval": fonds_code})
        return [
            {
                "record_id": str(w.record_id),
                "archive_code": w.archive_code,
                "fonds_code": w.fonds_code,
                "voucher_no": w.voucher_no,
                "summary": w.summary,
                "waiting_since": w.since.isoformat(),
                "check": CHECK_APPROVAL_RECORD.result(
                    CheckOutcome.FAILED,
                    f"no OA approval record linked since {w.since:%Y-%m-%d %H:%M} UTC",
                ).model_dump(mode="json"),
            }
            for w in due
        ]

    async def drilled(self, record: RecordArchived, visible: Visibility) -> dict[str, Any]:
        """What drill-through shows of approvals for a record: a voucher's approval records
        (form and trail), or an approval record's own and its vouchers; only what the reader
        may see."""
        shown: dict[str, Any] = {}
        approval = await self._links.approval(record.record_id)
        if approval is not None:
            shown["oa_approval"] = approval.model_dump(mode="json")
        records = []
        for link in await self._links.links_of(record.record_id):
            voucher_side = link.approval_record_id == record.record_id
            other = link.voucher_record_id if voucher_side else link.approval_record_id
            if not visible.sees(link.fonds_code, str(other)):
                continue
            entry: dict[str, Any] = {
                "record_id": str(other),
                "archive_code": link.voucher_archive_code
                if voucher_side
                else link.approval_archive_code,
                "key": link.key.model_dump(mode="json"),
                "linked_at": link.linked_at.isoformat(),
            }
            if not voucher_side and (kept := await self._links.approval(other)):
                entry |= {
                    "title": kept.title,
                    "outcome": kept.outcome,
                    "form": [f.model_dump(mode="json") for f in kept.form],
                    "trail": [s.model_dump(mode="json") for s in kept.trail],
                }
            records.append(entry)
        shown["vouchers" if approval is not None else "approval_records"] = records
        return shown
