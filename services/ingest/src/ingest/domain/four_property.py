"""The four-property check (四性检测) at archiving, as one table of DA/T 70-2018 items.

Each item looks at the upload and returns what it found wrong (nothing: passed). A policy says,
per item, whether a failure rejects the upload or holds it for an archivist's review.
"""

from __future__ import annotations

import io
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from contracts.formats import type_problem
from contracts.records import CheckOutcome, CheckProperty, CheckResult
from ingest.domain.einvoice import EInvoice, XmlProblem, is_einvoice, parse_einvoice, read_xml
from ingest.domain.files import ACCEPTED_ATTACHMENT_TYPES, UploadedFile
from ingest.domain.package import PackageError
from ingest.domain.printouts import ofd_text, open_ofd, pdf_text
from ingest.domain.voucher_export import Finding, VoucherExport

Action = Literal["reject", "review"]


@dataclass
class Upload:
    """What the checks look at: the files, the parsed voucher (or why it failed), the invoices."""

    voucher_file: UploadedFile
    attachments: list[UploadedFile]
    voucher: VoucherExport | None
    voucher_findings: list[Finding] = field(default_factory=list)
    xml: dict[str, ET.Element | XmlProblem] = field(default_factory=dict)
    invoices: dict[str, EInvoice | XmlProblem] = field(default_factory=dict)
    booked: Mapping[str, str] = field(default_factory=dict)  # booking key → document holding it
    pdfs: dict[str, PdfReader | str] = field(default_factory=dict)  # filename → reader, or why not
    ofds: dict[str, zipfile.ZipFile | str] = field(default_factory=dict)  # package, or why not
    printout_text: dict[str, str] = field(default_factory=dict)  # filename → PDF or OFD text
    # filename → signature found (None: clean); no mapping at all: no scanner configured
    virus_scan: Mapping[str, str | None] | None = None

    @classmethod
    def read(
        cls,
        voucher_file: UploadedFile,
        attachments: list[UploadedFile],
        voucher: VoucherExport | None,
        voucher_findings: list[Finding],
    ) -> Upload:
        upload = cls(voucher_file, attachments, voucher, voucher_findings)
        for f in attachments:
            if f.media_type in {"application/xml", "text/xml"}:
                try:
                    root = read_xml(f.data)
                except XmlProblem as problem:
                    upload.xml[f.filename] = problem
                    continue
                upload.xml[f.filename] = root
                if is_einvoice(root):
                    try:
                        upload.invoices[f.filename] = parse_einvoice(root)
                    except XmlProblem as problem:
                        upload.invoices[f.filename] = problem
            elif f.media_type == "application/pdf" and f.data.startswith(b"%PDF-"):
                upload.pdfs[f.filename] = _pdf(f)  # parsed once, for every check that reads it
            elif f.media_type == "application/ofd" and f.data.startswith(b"PK"):
                try:
                    upload.ofds[f.filename] = open_ofd(f.data)
                except PackageError as problem:
                    upload.ofds[f.filename] = str(problem)
        if upload.parsed_invoices():  # printouts matter only beside an e-invoice's XML
            for name, reader in upload.pdfs.items():
                if not isinstance(reader, str) and not reader.is_encrypted and reader.pages:
                    upload.printout_text[name] = pdf_text(reader)
            for name, package in upload.ofds.items():
                if not isinstance(package, str):
                    upload.printout_text[name] = ofd_text(package)
        return upload

    def printout_of(self, invoice: EInvoice) -> str | None:
        """The attachment that is a printout of ``invoice`` (its number in the text), if any."""
        return next(
            (name for name, text in self.printout_text.items() if invoice.invoice_number in text),
            None,
        )

    def parsed_invoices(self) -> list[EInvoice]:
        return [i for i in self.invoices.values() if isinstance(i, EInvoice)]


Check = Callable[[Upload], Sequence[str] | None]  # None: not performed; [] passed; else failures


def _voucher_findings(code: str) -> Check:
    def check(u: Upload) -> Sequence[str]:
        return [f"{fld}: {msg}" for c, fld, msg in u.voucher_findings if c == code]

    return check


def _fixity(u: Upload) -> Sequence[str]:
    # Digests (SHA-256, SM3) are computed for every file at intake; here: is the XML signed?
    # The signature is found, not verified: that needs the tax authority's certificate.
    return [
        f"{name}: the e-invoice XML carries no signature"
        for name, inv in u.invoices.items()
        if isinstance(inv, EInvoice) and not inv.signed
    ]


def _type_format(u: Upload) -> Sequence[str]:
    return [
        f"{f.filename}: {problem}"
        for f in u.attachments
        if (problem := type_problem(f.media_type, f.data))
    ]


def _reasonable(u: Upload) -> Sequence[str]:
    found = [f"{fld}: {msg}" for c, fld, msg in u.voucher_findings if c == "1-5"]
    for name, inv in u.invoices.items():
        if isinstance(inv, EInvoice):
            found += [f"{name}: {p}" for p in inv.arithmetic_problems()]
    return found


def _special_characters(u: Upload) -> Sequence[str] | None:
    if u.voucher is None:
        return None
    v = u.voucher
    texts = {"summary": v.summary, "company_name": v.company_name, "voucher_no": v.voucher_no}
    texts |= {f"entries.{i}.summary": e.summary for i, e in enumerate(v.entries)}
    return [
        f"{name}: contains control characters"
        for name, text in texts.items()
        if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in text)
    ]


def _duplicates(u: Upload) -> Sequence[str]:
    found, seen = [], set()
    for inv in u.parsed_invoices():
        if inv.invoice_number in seen:
            found.append(f"invoice {inv.invoice_number} is attached twice")
        seen.add(inv.invoice_number)
        if holder := u.booked.get(inv.invoice_number):
            found.append(
                f"invoice {inv.invoice_number} is already booked in record {holder} (重复入账)"
            )
    return found


def _same_name(name: str) -> str:
    """A company name as compared: full-width and half-width forms alike（）= (), no spaces."""
    return "".join(unicodedata.normalize("NFKC", name).split())


def _content_matches_metadata(u: Upload) -> Sequence[str] | None:
    """1-10: what an e-invoice says agrees with the voucher booking it, and with its printout."""
    invoices = u.parsed_invoices()
    if u.voucher is None or not invoices:
        return None
    v, found = u.voucher, []
    for inv in invoices:
        if inv.buyer_name and _same_name(inv.buyer_name) != _same_name(v.company_name):
            found.append(
                f"invoice {inv.invoice_number} is made out to {inv.buyer_name}, "
                f"not to {v.company_name} booking it"
            )
        if inv.issue_date > v.voucher_date:
            found.append(
                f"invoice {inv.invoice_number} is dated {inv.issue_date}, "
                f"after the voucher ({v.voucher_date})"
            )
        printout = u.printout_of(inv)
        shown = {f"{inv.total:.2f}", f"{inv.total:,.2f}"}  # with or without thousands separators
        if printout and not any(total in u.printout_text[printout] for total in shown):
            found.append(
                f"{printout}: the printout of invoice {inv.invoice_number} "
                f"does not show its total {inv.total:.2f}"
            )
    return found


def _process_information(u: Upload) -> Sequence[str] | None:
    if u.voucher is None:
        return None
    v = u.voucher
    if v.preparer == v.reviewer:
        return [f"preparer and reviewer are the same person ({v.preparer}): 制单与审核应分离"]
    return []


def _content_present(u: Upload) -> Sequence[str]:
    return [f"{f.filename}: file is empty" for f in [u.voucher_file, *u.attachments] if not f.data]


def _attachments_match(u: Upload) -> Sequence[str] | None:
    if u.voucher is None:
        return None
    # A printout is a copy of the e-invoice XML beside it, not an attachment of its own.
    printouts = {p for inv in u.parsed_invoices() if (p := u.printout_of(inv))}
    declared, uploaded = u.voucher.attachment_count, len(u.attachments) - len(printouts)
    if uploaded != declared:
        beside = f" besides {len(printouts)} invoice printout(s)" if printouts else ""
        return [f"{declared} attachments declared (附件张数), {uploaded} uploaded{beside}"]
    return []


def _xml_readable(u: Upload) -> Sequence[str] | None:
    if not u.xml:
        return None
    problems = [f"{name}: {p}" for name, p in u.xml.items() if isinstance(p, XmlProblem)]
    problems += [f"{name}: {p}" for name, p in u.invoices.items() if isinstance(p, XmlProblem)]
    return problems


def _accepted_formats(u: Upload) -> Sequence[str]:
    return [
        f"{f.filename}: type {f.media_type} is not accepted (PDF, OFD or XML)"
        for f in u.attachments
        if f.media_type not in ACCEPTED_ATTACHMENT_TYPES
    ]


def _pdf(f: UploadedFile) -> PdfReader | str:
    try:
        return PdfReader(io.BytesIO(f.data))
    except (PdfReadError, ValueError, OSError) as error:
        return f"{f.filename}: PDF cannot be read ({error})"


def _readable(u: Upload) -> Sequence[str]:
    found = [f"{fld}: {msg}" for c, fld, msg in u.voucher_findings if c == "3-4"]
    for f in u.attachments:
        if (reader := u.pdfs.get(f.filename)) is not None:
            if isinstance(reader, str):
                found.append(reader)
            elif not reader.is_encrypted and len(reader.pages) == 0:
                found.append(f"{f.filename}: PDF has no pages")
        if isinstance(problem := u.ofds.get(f.filename), str):
            found.append(f"{f.filename}: {problem}")
    return found


def _not_encrypted(u: Upload) -> Sequence[str]:
    found = []
    for f in u.attachments:
        reader = u.pdfs.get(f.filename)
        if reader is not None and not isinstance(reader, str) and reader.is_encrypted:
            found.append(f"{f.filename}: PDF is encrypted")
        if f.media_type == "application/ofd" and zipfile.is_zipfile(io.BytesIO(f.data)):
            infos = zipfile.ZipFile(io.BytesIO(f.data)).infolist()
            if any(i.flag_bits & 0x1 for i in infos):
                found.append(f"{f.filename}: OFD package has encrypted entries")
            if any(
                i.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for i in infos
            ):
                found.append(f"{f.filename}: OFD package uses a non-public compression")
    return found


def _virus_scan(u: Upload) -> Sequence[str] | None:
    if u.virus_scan is None:
        return None  # no clamd address configured: reported as not performed
    return [f"{name}: {found} found" for name, found in u.virus_scan.items() if found]


@dataclass(frozen=True)
class CheckItem:
    code: str
    name: str
    property: CheckProperty
    check: Check


CHECKS: tuple[CheckItem, ...] = (
    CheckItem(
        "1-1",
        "固化信息有效性 fixity (digests; e-invoice signature present)",
        "authenticity",
        _fixity,
    ),
    CheckItem("1-2", "元数据项数据长度 metadata length", "authenticity", _voucher_findings("1-2")),
    CheckItem("1-3", "元数据项数据类型、格式 data type and format", "authenticity", _type_format),
    CheckItem("1-4", "设定值域 value domain", "authenticity", _voucher_findings("1-4")),
    CheckItem("1-5", "数据值合理性 value reasonableness", "authenticity", _reasonable),
    CheckItem("1-6", "包含特殊字符 special characters", "authenticity", _special_characters),
    CheckItem("1-8", "重复数据 duplicates", "authenticity", _duplicates),
    CheckItem(
        "1-10",
        "内容数据与元数据一致 content matches metadata",
        "authenticity",
        _content_matches_metadata,
    ),
    CheckItem("2-4", "元数据必填项 required fields", "integrity", _voucher_findings("2-4")),
    CheckItem("2-5", "过程信息 process information", "integrity", _process_information),
    CheckItem("2-7", "电子文件内容 content present", "integrity", _content_present),
    CheckItem("2-8", "附件数据 attachments", "integrity", _attachments_match),
    CheckItem("3-1", "XML 文件可解析 XML readable", "usability", _xml_readable),
    CheckItem("3-3", "文件格式 accepted formats", "usability", _accepted_formats),
    CheckItem("3-4", "内容可读 content readable", "usability", _readable),
    CheckItem("3-8", "无加密与非公开压缩 no encryption", "usability", _not_encrypted),
    CheckItem("4-2", "病毒检测 virus scan", "security", _virus_scan),
)

DEFAULT_POLICY: Mapping[str, Action] = {
    "1-1": "review",
    "1-2": "reject",
    "1-3": "reject",
    "1-4": "reject",
    "1-5": "reject",
    "1-6": "review",
    "1-8": "reject",
    "1-10": "review",
    "2-4": "reject",
    "2-5": "review",
    "2-7": "reject",
    "2-8": "review",
    "3-1": "reject",
    "3-3": "reject",
    "3-4": "reject",
    "3-8": "reject",
    "4-2": "reject",
}


def run_checks(upload: Upload) -> list[CheckResult]:
    report = []
    for item in CHECKS:
        found = item.check(upload)
        if found is None:
            outcome, detail = CheckOutcome.NOT_PERFORMED, "not applicable or not configured"
        elif found:
            outcome, detail = CheckOutcome.FAILED, "; ".join(found)
        else:
            outcome, detail = CheckOutcome.PASSED, ""
        report.append(
            CheckResult(
                code=item.code,
                name=item.name,
                property=item.property,
                outcome=outcome,
                detail=detail,
            )
        )
    return report


@dataclass(frozen=True)
class Verdict:
    rejecting: list[CheckResult]
    for_review: list[CheckResult]


def judge(report: Sequence[CheckResult], policy: Mapping[str, Action] = DEFAULT_POLICY) -> Verdict:
    failed = [r for r in report if r.outcome is CheckOutcome.FAILED]
    return Verdict(
        rejecting=[r for r in failed if policy.get(r.code, "reject") == "reject"],
        for_review=[r for r in failed if policy.get(r.code, "reject") == "review"],
    )
