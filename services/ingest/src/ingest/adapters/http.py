"""HTTP: upload a voucher export with its attachments (multipart/form-data)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, HTTPException, UploadFile
from fastapi.responses import JSONResponse

from contracts.events import DocumentIngested
from ingest.domain.files import MAX_FILE_BYTES, UploadedFile, media_type_of
from ingest.domain.voucher_export import ExportError
from ingest.service import (
    IngestService,
    JournalResult,
    JournalService,
    PackageService,
    UnknownProfile,
)


async def _read(upload: UploadFile, role: str) -> UploadedFile:
    data = await upload.read(
        MAX_FILE_BYTES + 1
    )  # one byte over tells "too large" without reading all
    filename = upload.filename or role
    return UploadedFile(role, filename, media_type_of(filename, upload.content_type), data)


def _summary(results: list[JournalResult]) -> dict[str, Any]:
    """Each voucher's outcome, and how many were accepted, held for review and rejected."""
    items = []
    for r in results:
        body = r.result.event.model_dump(mode="json")
        state = "rejected"
        if isinstance(r.result.event, DocumentIngested):
            state = "held_for_review" if r.result.event.review_required else "accepted"
        items.append({"voucher_no": r.voucher_no, "rows": list(r.rows), "status": state, **body})
    counts = {
        s: sum(1 for i in items if i["status"] == s)
        for s in ("accepted", "held_for_review", "rejected")
    }
    return {"vouchers": items, **counts}


def ingest_router(
    service: IngestService, journals: JournalService, packages: PackageService
) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["ingest"])

    @router.post("/vouchers", status_code=202)
    async def upload_voucher(
        voucher: Annotated[UploadFile, File(description="Voucher export, format aap.voucher.v1")],
        attachments: Annotated[list[UploadFile] | None, File()] = None,
        x_user: Annotated[str | None, Header()] = None,
    ) -> Any:
        if not x_user:
            raise HTTPException(401, "X-User header (the authenticated user) is required")
        result = await service.ingest(
            await _read(voucher, "voucher"),
            [await _read(a, "attachment") for a in attachments or []],
            user=x_user,
        )
        body = result.event.model_dump(mode="json")
        if isinstance(result.event, DocumentIngested):
            return JSONResponse({"status": "accepted", **body}, status_code=202)
        return JSONResponse({"status": "rejected", **body}, status_code=422)

    @router.get("/journal-profiles")
    async def journal_profiles() -> list[dict[str, Any]]:
        return [p.model_dump() for p in journals.profiles.values()]

    @router.post("/journals")
    async def upload_journal(
        journal: Annotated[
            UploadFile,
            File(description="ERP voucher journal: CSV (UTF-8 or GB18030), Excel (.xlsx) or XML"),
        ],
        profile: Annotated[
            str, Form(description="CSV/Excel column profile, see /v1/journal-profiles")
        ] = "",
        fonds_code: Annotated[str, Form()] = "",
        company_name: Annotated[str, Form()] = "",
        x_user: Annotated[str | None, Header()] = None,
    ) -> Any:
        if not x_user:
            raise HTTPException(401, "X-User header (the authenticated user) is required")
        try:
            results = await journals.ingest_journal(
                await _read(journal, "journal"),
                profile=profile,
                fonds_code=fonds_code,
                company_name=company_name,
                user=x_user,
            )
        except UnknownProfile as error:
            raise HTTPException(422, str(error)) from error
        except ExportError as error:
            problems = [{"check": c, "field": f, "message": m} for c, f, m in error.problems]
            return JSONResponse({"status": "rejected", "problems": problems}, status_code=422)
        return _summary(results)

    @router.post("/packages")
    async def upload_package(
        package: Annotated[UploadFile, File(description="Archive package: zip with manifest.json")],
        x_user: Annotated[str | None, Header()] = None,
    ) -> Any:
        if not x_user:
            raise HTTPException(401, "X-User header (the authenticated user) is required")
        opened, results = await packages.ingest_package(
            await _read(package, "package"), user=x_user
        )
        report = [r.model_dump(mode="json") for r in opened.report]
        if not opened.accepted:
            return JSONResponse({"status": "rejected", "package_report": report}, status_code=422)
        return {"package_report": report, **_summary(results)}

    return router
