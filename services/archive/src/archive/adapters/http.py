"""HTTP: read records; download an original when the permission service allows it."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Header, HTTPException, Query
from fastapi.responses import Response

from archive.service import AccessDenied, ArchiveService


def archive_router(service: ArchiveService) -> APIRouter:
    router = APIRouter(prefix="/v1/records", tags=["archive"])

    @router.get("")
    async def list_records(
        fonds_code: str | None = None,
        fiscal_year: int | None = None,
        invoice_number: str | None = None,
        review_required: Annotated[
            bool | None, Query(description="true: records a check held for an archivist's review")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict[str, Any]:
        total, items = await service.page(
            fonds_code=fonds_code,
            fiscal_year=fiscal_year,
            invoice_number=invoice_number,
            review_required=review_required,
            limit=limit,
            offset=offset,
        )
        return {"total": total, "items": [r.model_dump(mode="json") for r in items]}

    @router.get("/{record_id}")
    async def get_record(record_id: uuid.UUID) -> dict[str, Any]:
        record = await service.get(record_id)
        if record is None:
            raise HTTPException(404, f"no archive record {record_id}")
        return record.model_dump(mode="json")

    @router.get("/{record_id}/originals/{sha256}")
    async def download_original(
        record_id: uuid.UUID, sha256: str, x_user: Annotated[str | None, Header()] = None
    ) -> Response:
        if not x_user:
            raise HTTPException(401, "X-User header (the authenticated user) is required")
        try:
            filename, media_type, data = await service.original(record_id, sha256, x_user)
        except KeyError as error:
            raise HTTPException(404, str(error.args[0])) from error
        except AccessDenied as error:
            raise HTTPException(403, f"permission service denied download: {error}") from error
        return Response(
            data,
            media_type=media_type,
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
        )

    return router
