"""HTTP: upload a voucher export with its attachments (multipart/form-data)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Header, HTTPException, UploadFile
from fastapi.responses import JSONResponse

from contracts.events import DocumentIngested
from ingest.domain.files import MAX_FILE_BYTES, UploadedFile, media_type_of
from ingest.service import IngestService


async def _read(upload: UploadFile, role: str) -> UploadedFile:
    data = await upload.read(
        MAX_FILE_BYTES + 1
    )  # one byte over tells "too large" without reading all
    filename = upload.filename or role
    return UploadedFile(role, filename, media_type_of(filename, upload.content_type), data)


def ingest_router(service: IngestService) -> APIRouter:
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

    return router
