"""HTTP: search and read records, drill through, download originals, holds, appraisal, re-checks.

The caller is the principal its access token proves (servicekit.auth); the permission service
decides what it may do.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel

from archive.approval_records import ApprovalRecords
from archive.assets import AssetService
from archive.completeness import CompletenessService
from archive.custody import CustodyService
from archive.domain.lifecycle import Conflict, DutiesSeparated, NotFound, NotNamed
from archive.domain.registers import custody_register, handover_list
from archive.domain.search import SearchCriteria
from archive.domain.watermark import NotRenderable
from archive.handover import HandoverService
from archive.integrity import IntegrityService
from archive.originals import Originals
from archive.paper_archives import PaperArchives, UnknownRecords
from archive.ports import AccessDenied, NotYetKnown
from archive.reads import Reader
from archive.service import ArchiveService
from contracts.records import RecordCategory
from servicekit.addresses import ClientAddress
from servicekit.auth import Caller
from servicekit.exports import CSV, XLSX, as_csv, as_xlsx

T = TypeVar("T")


class HandoverOfferView(BaseModel):
    offer_id: uuid.UUID
    fonds_code: str
    fiscal_year: int
    offered_by: str
    offered_at: AwareDatetime
    handover_id: uuid.UUID | None
    supervised_by: str | None
    supervised_at: AwareDatetime | None


# Fiscal years an archive can hold; beyond them a number is a mistake, not a year.
Year = Annotated[int, Query(ge=1900, le=2200)]
BodyYear = Annotated[int, Body(ge=1900, le=2200)]


async def reading(caller: Caller, address: ClientAddress) -> Reader:
    """Who reads, and from where: every read of records is on record."""
    return Reader(caller.subject, caller.name, address)


Reading = Annotated[Reader, Depends(reading)]


async def _answer(call: Awaitable[T]) -> T:
    try:
        return await call
    except NotFound as error:
        raise HTTPException(404, str(error)) from error
    except AccessDenied as error:
        raise HTTPException(403, f"permission service denied: {error}") from error
    except DutiesSeparated as error:
        raise HTTPException(403, f"separation of duties: {error}") from error
    except NotNamed as error:
        raise HTTPException(403, str(error)) from error
    except NotYetKnown as error:
        # Archived a moment ago: a retry is decided, so this is not the caller's lack of rights.
        detail = f"permission service cannot decide yet: {error}; try again in a moment"
        raise HTTPException(503, detail, headers={"Retry-After": "1"}) from error
    except Conflict as error:
        raise HTTPException(409, str(error)) from error
    except NotRenderable as error:
        raise HTTPException(422, str(error)) from error


def archive_router(
    service: ArchiveService,
    custody: CustodyService,
    integrity: IntegrityService,
    handover: HandoverService,
    approval_records: ApprovalRecords,
    completeness: CompletenessService,
    assets: AssetService,
    originals: Originals,
    paper: PaperArchives,
) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["archive"])

    @router.get("/records")
    async def search_records(
        reader: Reading,
        fonds_code: str | None = None,
        fiscal_year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
        period: Annotated[int | None, Query(ge=1, le=12)] = None,
        category: RecordCategory | None = None,
        voucher_no: str | None = None,
        amount_min: Decimal | None = None,
        amount_max: Decimal | None = None,
        counterparty: Annotated[str | None, Query(description="part of a name or tax id")] = None,
        invoice_number: str | None = None,
        q: Annotated[str | None, Query(description="part of the summary, e.g. 差旅费")] = None,
        review_required: bool | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
        with_total: Annotated[bool, Query(description="also count every match (slower)")] = False,
    ) -> dict[str, Any]:
        try:
            criteria = SearchCriteria(
                fonds_code=fonds_code,
                fiscal_year=fiscal_year,
                period=period,
                category=category,
                voucher_no=voucher_no,
                amount_min=amount_min,
                amount_max=amount_max,
                counterparty=counterparty,
                invoice_number=invoice_number,
                text=q,
                review_required=review_required,
            )
        except ValueError as error:
            raise HTTPException(422, str(error)) from error
        hits = await _answer(service.search(criteria, reader, limit, offset, with_total))
        body: dict[str, Any] = {"items": hits.items, "has_more": hits.has_more}
        if hits.total is not None:
            body["total"] = hits.total
        return body

    @router.get("/records/{record_id}")
    async def get_record(reader: Reading, record_id: uuid.UUID) -> dict[str, Any]:
        record = await _answer(service.get(record_id, reader))
        return record.model_dump(mode="json")

    @router.get("/records/{record_id}/drill")
    async def drill_down(reader: Reading, record_id: uuid.UUID) -> dict[str, Any]:
        return await _answer(service.drill_down(record_id, reader))

    @router.get("/records/{record_id}/versions")
    async def versions(reader: Reading, record_id: uuid.UUID) -> list[dict[str, Any]]:
        """The record and its corrections (更正): each a version, none overwritten."""
        return await _answer(service.versions(record_id, reader))

    @router.get("/drill")
    async def drill_up(
        reader: Reading,
        invoice_number: str | None = None,
        sha256: Annotated[str | None, Query(pattern=r"^[0-9a-f]{64}$")] = None,
    ) -> dict[str, Any]:
        """From an invoice number, or the SHA-256 of any original (a bank receipt), to the
        voucher holding it and everything linked to it."""
        if not (invoice_number or sha256):
            raise HTTPException(422, "give invoice_number or sha256")
        return await _answer(service.drill_up(reader, invoice_number=invoice_number, sha256=sha256))

    @router.get("/records/{record_id}/originals/{sha256}")
    async def download_original(reader: Reading, record_id: uuid.UUID, sha256: str) -> Response:
        """The original as locked (by role), or a copy marked as one (under a 复制 grant); a
        查阅 borrower is refused (403) and reads its pages instead."""
        copy = await _answer(originals.download(record_id, sha256, reader))
        return Response(
            copy.data,
            media_type=copy.media_type,
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(copy.filename)}"},
        )

    @router.get("/records/{record_id}/originals/{sha256}/pages/{number}")
    async def original_page(
        reader: Reading,
        record_id: uuid.UUID,
        sha256: str,
        number: Annotated[int, Path(ge=1, le=100_000)],
    ) -> Response:
        """查阅: page ``number`` of the original, rendered on the server as PNG with the
        watermark (reader, time, grant); ``X-AAP-Page-Count`` says how many pages it has."""
        page = await _answer(originals.page(record_id, sha256, number, reader))
        return Response(
            page.png, media_type="image/png", headers={"X-AAP-Page-Count": str(page.count)}
        )

    @router.post("/records/{record_id}/legal-hold", status_code=201)
    async def place_hold(
        caller: Caller,
        record_id: uuid.UUID,
        reason: Annotated[str, Body(embed=True, min_length=1)],
    ) -> dict[str, Any]:
        hold = await _answer(custody.place_hold(record_id, reason, caller))
        return {
            "reason": hold.reason,
            "placed_by": hold.placed_by,
            "placed_at": hold.placed_at.isoformat(),
        }

    @router.delete("/records/{record_id}/legal-hold", status_code=204)
    async def release_hold(
        caller: Caller,
        record_id: uuid.UUID,
        reason: Annotated[str, Query(min_length=1)],
    ) -> None:
        await _answer(custody.release_hold(record_id, reason, caller))

    @router.get("/appraisal")
    async def appraisal(
        caller: Caller,
        fonds_code: str,
        as_of: date,
    ) -> dict[str, Any]:
        return await _answer(custody.appraisal(fonds_code, as_of, caller))

    @router.get("/volumes")
    async def volumes(
        caller: Caller,
        fonds_code: str,
        fiscal_year: Year,
    ) -> list[dict[str, Any]]:
        found, _ = await _answer(custody.volumes(fonds_code, fiscal_year, caller))
        return [
            {
                "volume": v.number,
                "fiscal_year": v.fiscal_year,
                "period": v.period,
                "retention": v.retention_code,
                "items": v.item_count,
                "dates": list(v.date_range),
                "archive_codes": list(v.code_range),
                "bound": v.bound,
            }
            for v in found
        ]

    @router.get("/registers/{kind}.{fmt}")
    async def register(
        reader: Reading,
        kind: Literal["custody", "handover"],
        fmt: Literal["xlsx", "csv"],
        fonds_code: str,
        fiscal_year: Year,
    ) -> Response:
        """保管清册 (custody) or 移交清册 (handover) of a fonds and year, as an Excel workbook or
        CSV; user text is never written as a formula. It lists every record of the year: a read
        on record."""
        found, held = await _answer(custody.register(kind, fonds_code, fiscal_year, reader))
        if kind == "custody":
            kept = custody_register(fonds_code, fiscal_year, found, held)
        else:
            _, waived = await completeness.of_year(fonds_code, fiscal_year)
            kept = handover_list(fonds_code, fiscal_year, found, waived)
        data, media_type = (as_xlsx(kept), XLSX) if fmt == "xlsx" else (as_csv(kept), CSV)
        name = quote(f"{fonds_code}-{fiscal_year}-{kept.title}.{fmt}")
        return Response(
            data,
            media_type=media_type,
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
        )

    @router.post("/records/{record_id}/disposal", status_code=201)
    async def record_disposal(
        caller: Caller,
        record_id: uuid.UUID,
        disposed_on: Annotated[date, Body(embed=True, description="报废清理的日期")],
    ) -> dict[str, Any]:
        """A fixed-asset card's asset was disposed of: the card is kept five years from the
        end of that year (附表1 序号6), its hold released. 409 for another kind of record, or a
        disposal recorded already."""
        done = await _answer(assets.record_disposal(record_id, disposed_on, caller))
        return done.model_dump(mode="json")

    @router.post("/records/{record_id}/review")
    async def review(
        caller: Caller,
        record_id: uuid.UUID,
        decision: Annotated[Literal["accepted", "needs_correction"], Body()],
        note: Annotated[str, Body(max_length=1000)] = "",
    ) -> dict[str, Any]:
        """An archivist's decision on a record a check held for review."""
        done = await _answer(custody.review(record_id, decision, note, caller))
        return done.model_dump(mode="json")

    @router.post("/handover-offers", status_code=201)
    async def offer_handover(
        caller: Caller,
        fonds_code: Annotated[str, Body()],
        fiscal_year: BodyYear,
        supervised_by: Annotated[
            str,
            Body(min_length=1, max_length=100, description="监交人: the principal who supervises"),
        ],
    ) -> HandoverOfferView:
        """移交, first step: the accounting department (the caller, 移交人) offers a year's
        records to the archive department, naming its 监交人; the open offer of that year if
        there is one."""
        offer = await _answer(
            handover.offer(fonds_code, fiscal_year, user=caller, supervised_by=supervised_by)
        )
        return HandoverOfferView(**asdict(offer))

    @router.post("/handover-offers/{offer_id}/supervision", status_code=201)
    async def supervise_handover(caller: Caller, offer_id: uuid.UUID) -> dict[str, Any]:
        """监交: the 监交人 the offer names (the caller, by their own sign-in) confirms it."""
        done = await _answer(handover.supervise(offer_id, user=caller))
        return done.model_dump(mode="json")

    @router.post("/handovers", status_code=201)
    async def hand_over(
        caller: Caller,
        offer_id: Annotated[
            uuid.UUID, Body(embed=True, description="The accounting department's offer")
        ],
    ) -> dict[str, Any]:
        """移交, last step: the archive department (the caller, 接收人, neither the person who
        offered nor the one who supervised) accepts a supervised offer after re-checking every
        record; its 移交清册 is archived as a record (``handover_list``: its 档号)."""
        done = await _answer(handover.accept(offer_id, user=caller))
        return done.model_dump(mode="json")

    @router.post("/paper-volumes", status_code=201)
    async def register_paper_volume(
        caller: Caller,
        fonds_code: Annotated[str, Body(min_length=1, max_length=32)],
        fiscal_year: BodyYear,
        title: Annotated[str, Body(min_length=1, max_length=200, description="题名")],
        location: Annotated[str, Body(min_length=1, max_length=200, description="存放位置")],
        archive_codes: Annotated[
            list[str], Body(min_length=1, max_length=1000, description="档号 it relates to")
        ],
    ) -> dict[str, Any]:
        """纸质档案登记: an archivist of the fonds registers a paper volume kept beside the
        electronic records, and the records it relates to; each record's drill-through lists
        it from then on (第八条(三)(六))."""
        try:
            done = await _answer(
                paper.register(fonds_code, fiscal_year, title, location, archive_codes, user=caller)
            )
        except UnknownRecords as error:
            raise HTTPException(422, str(error)) from error
        return done.model_dump(mode="json")

    @router.post("/custody/extensions", status_code=201)
    async def extend_custody(
        caller: Caller,
        fonds_code: Annotated[str, Body()],
        fiscal_year: BodyYear,
        extended_years: Annotated[int, Body(ge=1, le=2, description="Years beyond the first")],
        reason: Annotated[str, Body(min_length=1)],
    ) -> dict[str, Any]:
        """The archive department (the caller) consents to the accounting department keeping a
        year's records longer: up to three years after year-end in all (第十一条)."""
        done = await _answer(
            handover.extend_custody(fonds_code, fiscal_year, extended_years, reason, caller)
        )
        return done.model_dump(mode="json")

    @router.get("/custody/overdue")
    async def custody_overdue(
        caller: Caller,
        fonds_code: str,
        as_of: date,
    ) -> list[dict[str, Any]]:
        """Years kept by the accounting department past temporary custody (第十一条)."""
        return await _answer(handover.custody_overdue(fonds_code, as_of, caller))

    @router.get("/vouchers/awaiting-approval")
    async def awaiting_approval(reader: Reading, fonds_code: str) -> list[dict[str, Any]]:
        """Vouchers whose OA approval form (审批单) has not been archived within the fonds' wait:
        check item AAP-APPROVAL-RECORD, for the archivist to chase."""
        return await _answer(approval_records.awaiting(fonds_code, reader))

    @router.get("/numbering")
    async def voucher_numbering(
        caller: Caller,
        fonds_code: str,
        fiscal_year: Year,
        period: Annotated[int, Query(ge=1, le=12)],
    ) -> dict[str, Any]:
        """DA/T 70 2-6 for a period: voucher numbers per word, with gaps and repeats."""
        reports = await _answer(custody.numbering(fonds_code, fiscal_year, period, caller))
        return {
            "continuous": all(r.continuous for r in reports),
            "words": [
                {
                    "word": r.word,
                    "first": r.first,
                    "last": r.last,
                    "count": r.count,
                    "gaps": list(r.gaps),
                    "repeats": list(r.repeats),
                    "unparsed": list(r.unparsed),
                }
                for r in reports
            ],
        }

    @router.post("/records/{record_id}/recheck")
    async def recheck(
        caller: Caller,
        record_id: uuid.UUID,
    ) -> dict[str, Any]:
        """Run the storage check table (fixity, 档号, size and type, package, content) now."""
        report, findings = await _answer(integrity.recheck_for(record_id, caller))
        return {
            "ok": not findings,
            "report": [r.model_dump(mode="json") for r in report],
            "findings": [asdict(f) for f in findings],
        }

    return router
