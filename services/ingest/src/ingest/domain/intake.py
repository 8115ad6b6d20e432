"""Intake of one upload: the voucher export plus its attachments, judged without I/O."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from contracts.events import DocumentIngested, Problem
from contracts.fixity import Digests, digest
from contracts.records import CheckResult, InvoiceRef, StoredFile, VoucherSummary
from contracts.types import Money
from ingest.domain.einvoice import EInvoice
from ingest.domain.files import MAX_ATTACHMENTS, MAX_FILE_BYTES, UploadedFile
from ingest.domain.four_property import DEFAULT_POLICY, Action, Upload, judge, run_checks
from ingest.domain.voucher_export import ExportError, Finding, VoucherExport, parse_voucher_export


@dataclass(frozen=True)
class Original:
    """A file to store, with its digests (and so its content address)."""

    file: UploadedFile
    digests: Digests


@dataclass(frozen=True)
class Assessment:
    """The four-property check's report on an upload and what follows from it."""

    voucher: VoucherExport | None
    report: list[CheckResult]
    problems: list[Problem]  # why it is rejected; empty if accepted
    review_required: bool
    originals: list[Original]
    invoices: list[InvoiceRef]

    @property
    def accepted(self) -> bool:
        return not self.problems


def _limits(voucher: UploadedFile, attachments: list[UploadedFile]) -> None:
    """Hard limits checked before anything is parsed, so that nothing huge is parsed."""
    problems: list[Finding] = []
    if len(attachments) > MAX_ATTACHMENTS:
        problems.append(
            ("3-3", "attachments", f"{len(attachments)} files, at most {MAX_ATTACHMENTS}")
        )
    for f in [voucher, *attachments]:
        if len(f.data) > MAX_FILE_BYTES:
            problems.append(("3-3", f.filename, f"{len(f.data)} bytes, at most {MAX_FILE_BYTES}"))
    if problems:
        raise ExportError(problems)


def _invoice_ref(
    inv: EInvoice, f: UploadedFile, printout: UploadedFile | None, currency: str
) -> InvoiceRef:
    return InvoiceRef(
        invoice_number=inv.invoice_number,
        seller_tax_id=inv.seller_tax_id,
        buyer_tax_id=inv.buyer_tax_id,
        seller_name=inv.seller_name,
        buyer_name=inv.buyer_name,
        issue_date=inv.issue_date,
        total=Money(amount=inv.total, currency=currency),
        file_sha256=digest(f.data).sha256,
        printout_sha256=digest(printout.data).sha256 if printout else None,
    )


def assess(
    voucher_file: UploadedFile,
    attachments: list[UploadedFile],
    *,
    booked: Mapping[str, str] | None = None,
    virus_scan: Mapping[str, str | None] | None = None,
    policy: Mapping[str, Action] = DEFAULT_POLICY,
) -> Assessment:
    """Run the four-property check. ``booked`` maps invoice numbers already booked to the record
    holding each; raises ExportError only for uploads over the hard limits."""
    _limits(voucher_file, attachments)
    voucher, findings = None, []
    try:
        voucher = parse_voucher_export(voucher_file.data)
    except ExportError as error:
        findings = error.problems
    upload = Upload.read(voucher_file, attachments, voucher, findings)
    upload.booked = booked or {}
    upload.virus_scan = virus_scan
    report = run_checks(upload)
    verdict = judge(report, policy)

    problems = [
        Problem(field=fld, message=msg)
        for code, fld, msg in findings
        if code in {r.code for r in verdict.rejecting}
    ]
    problems += [
        Problem(field=f"check {r.code}", message=r.detail)
        for r in verdict.rejecting
        if r.code not in {code for code, _, _ in findings}
    ]
    by_name = {f.filename: f for f in attachments}
    currency = voucher.currency if voucher else "CNY"
    return Assessment(
        voucher=voucher,
        report=report,
        problems=problems,
        review_required=bool(verdict.for_review),
        originals=[Original(f, digest(f.data)) for f in [voucher_file, *attachments]],
        invoices=[
            _invoice_ref(inv, by_name[name], by_name.get(upload.printout_of(inv) or ""), currency)
            for name, inv in upload.invoices.items()
            if isinstance(inv, EInvoice)
        ],
    )


def ingested_event(
    a: Assessment,
    *,
    document_id: uuid.UUID,
    bucket: str,
    submitted_by: str,
    at: datetime,
    source_export: StoredFile | None = None,
) -> DocumentIngested:
    v = a.voucher
    assert v is not None and a.accepted, "only an accepted upload is ingested"
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
            for o in a.originals
        ),
        submitted_by=submitted_by,
        submitted_at=at,
        invoices=tuple(a.invoices),
        check_report=tuple(a.report),
        review_required=a.review_required,
        source_export=source_export,
        corrects_archive_code=v.corrects,
    )
