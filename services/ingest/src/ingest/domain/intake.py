"""Intake of one upload: the voucher export plus its attachments, judged without I/O.

The parsers have read every file (``ingest.parsers.files``); here the four-property check runs
over what they found, the policy decides, and an accepted upload becomes ``DocumentIngested``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from contracts.checks import CHECK_3_3, CheckItem, conclude
from contracts.events import DocumentIngested, Problem
from contracts.fixity import content_key
from contracts.records import (
    BankReceiptRef,
    BureauSignature,
    CheckConclusion,
    CheckOutcome,
    CheckResult,
    FiscalBillRef,
    InvoiceRef,
    InvoiceVerification,
    StoredFile,
    VerifiedSignature,
    VoucherLine,
    VoucherSummary,
    material_key,
    voucher_key,
)
from contracts.types import Money
from ingest.domain.files import MAX_ATTACHMENTS, MAX_FILE_BYTES, UploadedFile
from ingest.domain.four_property import Upload, describe, run_checks
from ingest.domain.policy import INTAKE_POLICY, Rule, judge
from ingest.parsers.einvoice import EInvoice
from ingest.parsers.files import ReadFile
from ingest.parsers.findings import Finding
from ingest.parsers.material import MaterialExport
from ingest.parsers.voucher import VoucherExport


@dataclass(frozen=True)
class Assessment:
    """The four-property check's report on an upload and what follows from it."""

    files: Sequence[ReadFile]
    report: list[CheckResult]
    conclusion: CheckConclusion
    problems: list[Problem]  # why it is rejected; empty if accepted
    review_required: bool
    invoices: list[InvoiceRef]
    receipts: list[BankReceiptRef]
    fiscal_bills: list[FiscalBillRef]

    @property
    def accepted(self) -> bool:
        return not self.problems

    @property
    def voucher(self) -> VoucherExport | None:
        read = self.files[0].voucher
        return read.voucher if read else None

    @property
    def material(self) -> MaterialExport | None:
        read = self.files[0].material
        return read.material if read else None


def over_limits(voucher: UploadedFile, attachments: Sequence[UploadedFile]) -> list[Finding]:
    """Hard limits checked before anything is parsed, so that nothing huge is parsed."""
    found: list[Finding] = []
    if len(attachments) > MAX_ATTACHMENTS:
        found.append(
            Finding(
                CHECK_3_3, "attachments", f"{len(attachments)} files, at most {MAX_ATTACHMENTS}"
            )
        )
    for n, f in enumerate([voucher, *attachments]):
        if len(f.data) > MAX_FILE_BYTES:
            found.append(
                Finding(
                    CHECK_3_3,
                    f"{f.filename} (#{n})",
                    f"over the limit of {MAX_FILE_BYTES} bytes per file",
                )
            )
    return found


def refused_before_reading(findings: Sequence[Finding]) -> tuple[list[CheckResult], list[Problem]]:
    """The report of an upload refused before any file was read: what failed, nothing else."""
    by_item: dict[CheckItem, list[Finding]] = {}
    for f in findings:
        by_item.setdefault(f.item, []).append(f)
    report = [
        item.result(CheckOutcome.FAILED, "; ".join(f"{f.field}: {f.message}" for f in found))
        for item, found in by_item.items()
    ]
    return report, [Problem(field=f.field, message=f.message) for f in findings]


def booking_keys(files: Sequence[ReadFile]) -> list[str]:
    """The booking key of each invoice of an upload as read: one per invoice and party."""
    return Upload(files).booking_keys()


def received_invoices(files: Sequence[ReadFile]) -> list[EInvoice]:
    """The invoices of an upload the company received (进项): those 查验 asks about."""
    return Upload(files).received()


def _invoice_ref(upload: Upload, inv: EInvoice, f: ReadFile, currency: str) -> InvoiceRef:
    printout = upload.printout_of(inv)
    return InvoiceRef(
        invoice_number=inv.invoice_number,
        invoice_code=inv.invoice_code,
        check_code=inv.check_code,
        source=inv.source,
        booked_by=upload.booked_by(inv),
        seller_tax_id=inv.seller_tax_id,
        buyer_tax_id=inv.buyer_tax_id,
        seller_name=inv.seller_name,
        buyer_name=inv.buyer_name,
        issue_date=inv.issue_date,
        total=Money(amount=inv.total, currency=currency),
        file_sha256=f.ref.sha256,
        printout_sha256=printout.ref.sha256 if printout else None,
        verification=(upload.verified or {}).get(inv.invoice_number)
        if upload.booked_by(inv) == "buyer"
        else None,
        kind=inv.kind,
        reversal=inv.red,
        offsets=inv.offsets,
    )


def assess(
    files: Sequence[ReadFile],
    *,
    booked: Mapping[str, str] | None = None,
    virus_scan: Sequence[str | None] | None = None,
    scanner: str | None = None,
    held_by: str | None = None,
    package_report: Sequence[CheckResult] = (),
    verified: Mapping[str, InvoiceVerification] | None = None,
    policy: Mapping[CheckItem, Rule] = INTAKE_POLICY,
) -> Assessment:
    """Run the four-property check over an upload as read (``files[0]`` the voucher export).

    ``booked`` maps invoice numbers already booked to the record holding each; ``virus_scan``
    gives, per file in order, the signature found (None: clean), or is None without a scanner;
    ``held_by`` names the record holding this voucher's key with other content; ``verified``
    gives each invoice received its 查验 by number, or is None without a 查验 provider.
    """
    upload = Upload(files, booked or {}, virus_scan, scanner, held_by, package_report, verified)
    report = run_checks(upload)
    verdict = judge(report, policy)
    problems = [problem for r in verdict.rejecting for problem in _problems(r)]
    currency = upload.voucher.currency if upload.voucher else "CNY"
    return Assessment(
        files=files,
        report=report,
        conclusion=conclude(report),
        problems=problems,
        review_required=bool(verdict.for_review),
        invoices=[_invoice_ref(upload, inv, f, currency) for f, inv in upload.invoices()],
        receipts=[r for _, r in upload.receipts()],
        fiscal_bills=[b for _, b in upload.fiscal_bills()],
    )


def _problems(r: CheckResult) -> list[Problem]:
    """Why a check refuses the upload: a voucher field by its name, anything else by the check
    (the message names the file, by name, position and digest)."""
    if not r.findings:
        return [Problem(field=f"check {r.code}", message=r.detail or r.outcome.value)]
    return [
        Problem(field=f.field, message=f.message)
        if f.field and f.file and f.file.position == 0
        else Problem(field=f"check {r.code}", message=describe([f]))
        for f in r.findings
    ]


Described = VoucherExport | MaterialExport


def described(first: ReadFile) -> Described | None:
    """What the first file of an upload says it is: a voucher, a material, or (unread) None."""
    if first.voucher is not None:
        return first.voucher.voucher
    return first.material.material if first.material is not None else None


def natural_key(d: Described) -> str:
    """The natural key of what is uploaded: no two records hold one
    (``contracts.records.voucher_key``, ``material_key``)."""
    if isinstance(d, MaterialExport):
        return material_key(
            fonds_code=d.fonds_code,
            company_name=d.company_name,
            fiscal_year=d.fiscal_year,
            material=d.description,
        )
    return voucher_key(
        fonds_code=d.fonds_code,
        company_name=d.company_name,
        fiscal_year=d.fiscal_year,
        period=d.period,
        voucher_no=d.voucher_no,
    )


def same_content(d: Described, attachments: Sequence[ReadFile]) -> str:
    """What makes two uploads of one voucher (or material) "the same content": the canonical
    voucher or description (its fields as parsed, so encoding and layout do not count) and the
    SHA-256 of each attachment (in any order). Its SHA-256, as a fingerprint."""
    canonical = {
        "voucher" if isinstance(d, VoucherExport) else "material": d.model_dump(mode="json"),
        "attachments": sorted(f.ref.sha256 for f in attachments),
    }
    text = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def ingested_event(
    a: Assessment,
    *,
    document_id: uuid.UUID,
    bucket: str,
    submitted_by: str,
    at: datetime,
    source_export: StoredFile | None = None,
) -> DocumentIngested:
    d = described(a.files[0])
    assert d is not None and a.accepted, "only an accepted upload is ingested"
    if isinstance(d, MaterialExport):
        what: dict[str, Any] = {
            "category": d.kind,
            "period": d.period_to,
            "material": d.description,
        }
    else:
        what = {"category": d.category, "period": d.period, "voucher": _summary(d)}
        what["correction"] = d.corrects
    return DocumentIngested(
        document_id=document_id,
        fonds_code=d.fonds_code,
        company_name=d.company_name,
        fiscal_year=d.fiscal_year,
        **what,
        files=tuple(
            StoredFile(
                role=(
                    "voucher"
                    if f.role == "voucher"
                    else "description"
                    if f.role == "description"
                    else "attachment"
                ),
                filename=f.ref.filename,
                media_type=f.media_type,
                size=f.size,
                bucket=bucket,
                object_key=content_key(f.ref.sha256),
                sha256=f.ref.sha256,
                sm3=f.sm3,
                format=f.format or None,
                signature=f.signature,
                bureau_signature=_bureau_signature(f),
                verified=tuple(
                    VerifiedSignature(
                        signer=s.signer,
                        issuer=s.issuer,
                        signed_at=s.signed_at,
                        algorithm=s.algorithm,
                        trusted=s.trusted,
                        seal=s.seal or None,
                    )
                    for s in f.signatures
                    if s.verified
                ),
            )
            for f in a.files
        ),
        submitted_by=submitted_by,
        submitted_at=at,
        invoices=tuple(a.invoices),
        receipts=tuple(a.receipts),
        fiscal_bills=tuple(a.fiscal_bills),
        check_report=tuple(a.report),
        check_conclusion=a.conclusion,
        review_required=a.review_required,
        source_export=source_export,
    )


BEIJING = timezone(timedelta(hours=8))  # the tax bureau writes its times in Beijing time


def _bureau_signature(f: ReadFile) -> BureauSignature | None:
    found = f.invoice.bureau_signature if f.invoice else None
    if found is None:
        return None
    try:
        signed_at = datetime.fromisoformat(found.time).replace(tzinfo=BEIJING)
    except ValueError:
        signed_at = None  # kept without a time rather than with a wrong one
    return BureauSignature(
        bureau=found.bureau,
        algorithm=found.algorithm,
        format=found.format,
        signed_at=signed_at,
        reference=found.reference,
        value_sha256=found.value_sha256,
    )


def _summary(v: VoucherExport) -> VoucherSummary:
    return VoucherSummary(
        voucher_no=v.voucher_no,
        voucher_date=v.voucher_date,
        summary=v.summary,
        total=Money(amount=v.total_debit, currency=v.currency),
        entry_count=len(v.entries),
        preparer=v.preparer,
        reviewer=v.reviewer,
        approver=v.approver,
        declared_attachment_count=v.attachment_count,
        bank_accounts=v.bank_accounts,
        open_matter=v.open_matter,
        entries=tuple(
            VoucherLine(
                summary=e.summary,
                account_code=e.account_code,
                account_name=e.account_name,
                side="借" if e.debit else "贷",
                amount=Money(amount=e.debit or e.credit, currency=v.currency),
            )
            for e in v.entries
        ),
    )
