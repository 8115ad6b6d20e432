"""HTTP: upload a voucher export with its attachments, a journal, or an archive package
(multipart/form-data). A journal or a package is spooled to disk as it arrives and refused with
413, naming the limit, when it goes over it: never cut short."""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations at
# definition time, and ``Uploading`` is local to the router (it closes over the directory).

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, UploadFile
from fastapi.responses import JSONResponse

from contracts.events import DocumentIngested
from contracts.roles import ALL_FONDS, Action
from ingest.domain.files import MAX_FILE_BYTES, UploadedFile, media_type_of
from ingest.domain.uploaders import Uploader
from ingest.journals import JournalService, VoucherResult
from ingest.packages import PackageService
from ingest.ports import Verification
from ingest.service import IngestResult, IngestService, Outcome, Spooled
from ingest.verifications import InvoiceChecks
from servicekit.auth import Caller, Principal
from servicekit.body_gate import Admission
from servicekit.roles import RoleDirectory

CHUNK = 1024 * 1024
STATUS_CODES = {
    Outcome.ACCEPTED: 202,
    Outcome.HELD_FOR_REVIEW: 202,
    Outcome.ALREADY_ACCEPTED: 200,
    Outcome.REJECTED: 422,
    Outcome.CONFLICT: 409,
}


class TooLarge(Exception):
    """An upload over its size limit, refused while it arrives (413)."""


async def _read(upload: UploadFile, role: str) -> UploadedFile:
    # One byte over the limit tells "too large" without reading all of it.
    data = await upload.read(MAX_FILE_BYTES + 1)
    filename = upload.filename or role
    return UploadedFile(role, filename, media_type_of(filename, upload.content_type), data)


@contextlib.asynccontextmanager
async def spooled(
    upload: UploadFile, limit: int, what: str, folder: Path | None
) -> AsyncIterator[Spooled]:
    """The upload copied to a file of its own, chunk by chunk, and removed afterwards."""
    fd, name = tempfile.mkstemp(prefix="aap-ingest-", dir=folder)
    path, size = Path(name), 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"{what} is over the limit of {limit} bytes")
                await asyncio.to_thread(out.write, chunk)
        yield Spooled(path, upload.filename or what, size)
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)


def _summary(results: list[VoucherResult]) -> dict[str, Any]:
    """Each voucher's outcome, and how many were accepted, held, refused or there already."""
    items = [
        {
            "voucher_no": r.voucher_no,
            "rows": list(r.rows),
            "status": r.result.outcome.value,
            **r.result.event.model_dump(mode="json"),
        }
        for r in results
    ]
    counts = {o.value: sum(1 for r in results if r.result.outcome is o) for o in Outcome}
    return {"vouchers": items, **counts}


# What a multipart form adds around the file it carries: a route's cap is its file's and this.
FORM_SLACK = 1024 * 1024
UPLOADS = ("/v1/vouchers", "/v1/materials", "/v1/journals", "/v1/packages")


async def uploader_of(directory: RoleDirectory, caller: Principal) -> Uploader:
    """The caller, if their roles let them upload into some fonds; 403 otherwise."""
    fonds = (await directory.holder(caller)).fonds_where(Action.UPLOAD)
    if not fonds:
        raise HTTPException(
            403, f"{caller.name}: uploads are for accountants and the ERP integration"
        )
    return Uploader(caller.name, fonds)


def upload_admissions(directory: RoleDirectory) -> dict[str, Admission]:
    """Who the upload routes admit, checked before a byte of the upload is read."""

    async def admit(caller: Principal) -> None:
        await uploader_of(directory, caller)

    return dict.fromkeys(UPLOADS, admit)


def _verification(v: Verification) -> dict[str, Any]:
    return {
        "document_id": str(v.document_id),
        "fonds_code": v.fonds_code,
        "invoice_number": v.query.number,
        "invoice_code": v.query.code,
        "issue_date": v.query.issue_date,
        "total": str(v.query.total),
        **v.verification.model_dump(mode="json"),
        "attempts": v.attempts,
        "next_at": v.next_at.isoformat() if v.next_at else None,
    }


def ingest_router(
    service: IngestService,
    journals: JournalService,
    packages: PackageService,
    invoice_checks: InvoiceChecks,
    *,
    max_voucher_bytes: int,
    max_journal_bytes: int,
    max_package_bytes: int,
    spool_dir: Path | None,
    directory: RoleDirectory,
) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["ingest"])

    async def uploader(caller: Caller) -> Uploader:
        return await uploader_of(directory, caller)

    Uploading = Annotated[Uploader, Depends(uploader)]

    @router.post("/vouchers", status_code=202, max_body_size=max_voucher_bytes)
    async def upload_voucher(
        caller: Uploading,
        voucher: Annotated[UploadFile, File(description="Voucher export, format aap.voucher.v1")],
        attachments: Annotated[list[UploadFile] | None, File()] = None,
    ) -> Any:
        """202 accepted (or held for review); 200 the same voucher again, answered with the
        document it made before; 409 other content under a voucher key already taken; 422
        refused, with every reason."""
        result = await service.ingest(
            await _read(voucher, "voucher"),
            [await _read(a, "attachment") for a in attachments or []],
            uploader=caller,
        )
        return _answer(result)

    @router.post("/materials", status_code=202, max_body_size=max_voucher_bytes)
    async def upload_material(
        caller: Uploading,
        description: Annotated[
            UploadFile, File(description="What the files are, format aap.material.v1")
        ],
        files: Annotated[
            list[UploadFile], File(description="A ledger, report, statement…: PDF/OFD/XLSX/XML")
        ],
    ) -> Any:
        """A ledger, a report, a bank statement or reconciliation, a tax return (第六条): the
        same answers as a voucher's upload."""
        result = await service.ingest(
            await _read(description, "description"),
            [await _read(f, "attachment") for f in files],
            uploader=caller,
        )
        return _answer(result)

    def _answer(result: IngestResult) -> JSONResponse:
        body = result.event.model_dump(mode="json")
        accepted = isinstance(result.event, DocumentIngested)
        status = "accepted" if accepted else "rejected"
        if result.outcome in {Outcome.ALREADY_ACCEPTED, Outcome.CONFLICT}:
            status = result.outcome.value
        return JSONResponse({"status": status, **body}, status_code=STATUS_CODES[result.outcome])

    @router.get("/invoice-verifications")
    async def invoice_verifications(
        caller: Caller,
        fonds_code: str | None = None,
        unanswered: Annotated[
            bool, Query(description="only those the platform has not answered yet")
        ] = False,
    ) -> dict[str, Any]:
        """查验 of the invoices received, latest answer first, those still unanswered before
        all: for the fonds the caller reads (archivist, accountant, auditor), or the one asked."""
        readable = (await directory.holder(caller)).fonds_where(Action.READ)
        if not readable:
            raise HTTPException(403, f"{caller.name}: for archivists, accountants and auditors")
        fonds: frozenset[str] | None = None if ALL_FONDS in readable else readable
        if fonds_code is not None:
            if fonds is not None and fonds_code not in fonds:
                raise HTTPException(403, f"{caller.name} does not read fonds {fonds_code}")
            fonds = frozenset({fonds_code})
        found = await invoice_checks.listing(fonds, unanswered)
        return {"items": [_verification(v) for v in found]}

    @router.get("/journal-profiles")
    async def journal_profiles() -> list[dict[str, Any]]:
        return [p.model_dump() for p in journals.profiles.values()]

    @router.post("/journals", max_body_size=max_journal_bytes + FORM_SLACK)
    async def upload_journal(
        caller: Uploading,
        journal: Annotated[
            UploadFile,
            File(description="ERP voucher journal: CSV (UTF-8 or GB18030), Excel (.xlsx) or XML"),
        ],
        profile: Annotated[
            str, Form(description="CSV/Excel column profile, see /v1/journal-profiles")
        ] = "",
        fonds_code: Annotated[str, Form()] = "",
        company_name: Annotated[str, Form()] = "",
    ) -> Any:
        """Each voucher's outcome; 413 for a journal over a limit (bytes, rows, columns,
        cells), which is refused whole."""
        async with spooled(journal, max_journal_bytes, "journal", spool_dir) as kept:
            results = await journals.ingest_journal(
                kept,
                profile=profile,
                fonds_code=fonds_code,
                company_name=company_name,
                uploader=caller,
            )
        return _summary(results)

    @router.post("/packages", max_body_size=max_package_bytes + FORM_SLACK)
    async def upload_package(
        caller: Uploading,
        package: Annotated[UploadFile, File(description="Archive package: zip with manifest.json")],
    ) -> Any:
        async with spooled(package, max_package_bytes, "package", spool_dir) as kept:
            index, results = await packages.ingest_package(kept, uploader=caller)
        report = [r.model_dump(mode="json") for r in index.report]
        if not index.accepted:
            return JSONResponse({"status": "rejected", "package_report": report}, status_code=422)
        return {"package_report": report, **_summary(results)}

    return router
