"""Intake of one upload: the voucher export plus its attachments, decided without I/O."""

from __future__ import annotations

import mimetypes
import uuid
from dataclasses import dataclass
from datetime import datetime

from contracts.events import DocumentIngested
from contracts.records import StoredFile, VoucherSummary
from contracts.types import Money
from ingest.domain.fixity import Digests, digest
from ingest.domain.voucher_export import ExportError, VoucherExport, parse_voucher_export

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ATTACHMENTS = 50
ACCEPTED_ATTACHMENT_TYPES = {"application/pdf", "application/xml", "text/xml", "application/ofd"}


@dataclass(frozen=True)
class UploadedFile:
    role: str  # "voucher" or "attachment"
    filename: str
    media_type: str
    data: bytes


@dataclass(frozen=True)
class Original:
    """A file to store, with its digests and where it goes."""

    file: UploadedFile
    digests: Digests


@dataclass(frozen=True)
class Accepted:
    voucher: VoucherExport
    originals: list[Original]


def media_type_of(filename: str, declared: str | None) -> str:
    if filename.lower().endswith(".ofd"):
        return "application/ofd"
    guessed, _ = mimetypes.guess_type(filename)
    return guessed or declared or "application/octet-stream"


def assess(voucher_file: UploadedFile, attachments: list[UploadedFile]) -> Accepted:
    """Accept the upload or raise ExportError naming every problem."""
    problems: list[tuple[str, str]] = []
    if len(attachments) > MAX_ATTACHMENTS:
        problems.append(("attachments", f"{len(attachments)} files, at most {MAX_ATTACHMENTS}"))
    for f in [voucher_file, *attachments]:
        if len(f.data) > MAX_FILE_BYTES:
            problems.append((f.filename, f"{len(f.data)} bytes, at most {MAX_FILE_BYTES}"))
        if not f.data:
            problems.append((f.filename, "file is empty"))
    for a in attachments:
        if a.media_type not in ACCEPTED_ATTACHMENT_TYPES:
            problems.append((a.filename, f"type {a.media_type} is not accepted (PDF, OFD or XML)"))
    if problems:
        raise ExportError(problems)
    voucher = parse_voucher_export(voucher_file.data)
    originals = [Original(f, digest(f.data)) for f in [voucher_file, *attachments]]
    return Accepted(voucher, originals)


def ingested_event(
    accepted: Accepted, *, document_id: uuid.UUID, bucket: str, submitted_by: str, at: datetime
) -> DocumentIngested:
    v = accepted.voucher
    return DocumentIngested(
        document_id=document_id,
        fonds_code=v.fonds_code,
        company_name=v.company_name,
        fiscal_year=v.fiscal_year,
        period=v.period,
        category=v.category,
        voucher=VoucherSummary(
            voucher_no=v.voucher_no,
            voucher_date=v.voucher_date,
            summary=v.summary,
            total=Money(amount=v.total_debit, currency=v.currency),
            entry_count=len(v.entries),
            preparer=v.preparer,
            reviewer=v.reviewer,
            approver=v.approver,
            declared_attachment_count=v.attachment_count,
        ),
        files=tuple(
            StoredFile(
                role="voucher" if o.file.role == "voucher" else "attachment",
                filename=o.file.filename,
                media_type=o.file.media_type,
                size=len(o.file.data),
                bucket=bucket,
                object_key=o.digests.content_key,
                sha256=o.digests.sha256,
                sm3=o.digests.sm3,
            )
            for o in accepted.originals
        ),
        submitted_by=submitted_by,
        submitted_at=at,
    )


__all__ = ["Accepted", "ExportError", "UploadedFile", "assess", "ingested_event", "media_type_of"]
