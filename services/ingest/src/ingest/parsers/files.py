"""One uploaded file, read: what every check of the intake needs to know about it.

``read_file`` is the worker pool's entry point for a voucher upload: one call per file, so that
the time and memory limits hold per file. A file is told apart by its position in the upload and
its digest, never by its name: two attachments may share one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from contracts.fixity import digest
from contracts.formats import XLSX, format_of, type_problem
from contracts.records import FileRef
from ingest.parsers.bank_receipt import BankReceipt, read_bank_receipt
from ingest.parsers.einvoice import EInvoice, is_einvoice, parse_einvoice
from ingest.parsers.fiscal_bill import FiscalBill, read_fiscal_bill
from ingest.parsers.invoice_text import PrintedInvoice, read_printed_invoice
from ingest.parsers.material import MaterialRead, read_material
from ingest.parsers.ofd import OfdRead, read_ofd
from ingest.parsers.ofd_invoice import read_ofd_invoice
from ingest.parsers.pdf import PdfRead, read_pdf
from ingest.parsers.signatures import CheckedSignature, TrustAnchors
from ingest.parsers.sm2_verifier import NOT_CONFIGURED, Sm2Verifier
from ingest.parsers.voucher import VoucherRead, read_voucher
from ingest.parsers.workbook import WorkbookRead, read_workbook
from ingest.parsers.xml import XmlProblem, read_xml
from ingest.parsers.xml_signatures import carries_xmldsig, verify_xml_signature

XML_TYPES = frozenset({"application/xml", "text/xml"})


@dataclass(frozen=True)
class UploadedFile:
    role: str  # "voucher" or "description" (a material's), then "attachment"
    filename: str
    media_type: str
    data: bytes


@dataclass(frozen=True)
class ReadFile:
    """What the parsers found in one file of an upload."""

    ref: FileRef  # position, name and SHA-256
    role: str
    media_type: str
    size: int
    sm3: str
    type_problem: str | None = None  # its content is not of its declared type
    format: str = ""  # format and version as its bytes say (PDF 1.7…), "" if not told apart
    voucher: VoucherRead | None = None  # the voucher export, for the voucher file
    material: MaterialRead | None = None  # a material's description, for its first file
    xml_problem: str | None = None  # an XML attachment that cannot be read
    xml_signatures: tuple[CheckedSignature, ...] = ()  # its XMLDSig signature, as verified
    invoice: EInvoice | None = None  # an XML attachment that is a 数电票
    invoice_problem: str | None = None  # …whose fields cannot be read
    pdf: PdfRead | None = None
    ofd: OfdRead | None = None
    printed: PrintedInvoice | None = None  # the invoice a PDF or OFD printout's text shows
    receipt: BankReceipt | None = None  # the bank e-receipt a PDF's or OFD's text shows
    fiscal_bill: FiscalBill | None = None  # the 财政电子票据 a PDF's or OFD's text shows
    workbook: WorkbookRead | None = None
    unreadable: str | None = None  # could not be read at all: a limit, a parser fault

    @property
    def name(self) -> str:
        """How a report names the file: its name and digest, which tell twins apart."""
        return f"{self.ref.filename} (#{self.ref.position}, SHA-256 {self.ref.sha256[:12]}…)"

    @property
    def text(self) -> str:
        """The text of a PDF or OFD printout (版式文件), '' for anything else."""
        return (self.pdf.text if self.pdf else "") or (self.ofd.text if self.ofd else "")

    @property
    def signed(self) -> bool:
        """Carries a signature, seal or timestamp (fixity information) to verify."""
        return bool(
            (self.invoice and self.invoice.signed)
            or (self.pdf and self.pdf.signed)
            or (self.ofd and self.ofd.signed)
            or self.xml_signatures
        )

    @property
    def signatures(self) -> tuple[CheckedSignature, ...]:
        """The signatures verified (a PDF's, an OFD's, an XML's), in the order the file carries
        them."""
        if self.pdf:
            return self.pdf.signatures
        return self.ofd.signatures if self.ofd else self.xml_signatures

    @property
    def signature(self) -> str | None:
        """What kind of fixity information it carries, for the record's signature block."""
        if self.xml_signatures:
            return "XML 数字签名 (XMLDSig)"
        if self.invoice and self.invoice.signed:
            return "数电票 XML 签名"
        if self.pdf and self.pdf.signed:
            return "PDF 数字签名"
        if self.ofd and self.ofd.signed:
            return "OFD 电子签章"
        return None


def _ref(position: int, file: UploadedFile) -> tuple[FileRef, str]:
    d = digest(file.data)
    return FileRef(position=position, filename=file.filename, sha256=d.sha256), d.sm3


def read_file(
    position: int,
    file: UploadedFile,
    anchors: TrustAnchors | None = None,
    sm2: Sm2Verifier | None = None,
) -> ReadFile:
    """Read one file of an upload: position 0 the voucher export or a material's description,
    1… the attachments (a material's files) in order; a PDF's signatures and an OFD's seals
    (what pyHanko cannot verify by ``sm2``) verified against ``anchors``."""
    ref, sm3 = _ref(position, file)
    read = ReadFile(
        ref,
        file.role,
        file.media_type,
        len(file.data),
        sm3,
        type_problem=type_problem(file.media_type, file.data),
        format=format_of(file.media_type, file.data),
    )
    if file.role == "voucher":
        return _with(read, voucher=read_voucher(file.data))
    if file.role == "description":
        return _with(read, material=read_material(file.data))
    if file.media_type in XML_TYPES:
        try:
            root = read_xml(file.data)
        except XmlProblem as problem:
            return _with(read, xml_problem=str(problem))
        if carries_xmldsig(root):
            signatures = verify_xml_signature(file.data, root, anchors or TrustAnchors())
            read = _with(read, xml_signatures=signatures)
        if is_einvoice(root):
            try:
                return _with(read, invoice=parse_einvoice(root))
            except XmlProblem as problem:
                return _with(read, invoice_problem=str(problem))
        return read
    if file.media_type == "application/pdf" and file.data.startswith(b"%PDF-"):
        pdf = read_pdf(file.data, anchors, sm2)
        printed, receipt = read_printed_invoice(pdf.text), read_bank_receipt(pdf.text)
        bill = read_fiscal_bill(pdf.text)
        return _with(read, pdf=pdf, printed=printed, receipt=receipt, fiscal_bill=bill)
    if file.media_type == "application/ofd" and file.data.startswith(b"PK"):
        ofd = read_ofd(file.data)
        if ofd.signed and ofd.problem is None and not ofd.encrypted and not ofd.private_compression:
            ofd = replace(ofd, signatures=_seals(file.data, anchors, sm2))
        shown, receipt = read_printed_invoice(ofd.text), read_bank_receipt(ofd.text)
        if "发票号码" in ofd.fields:  # its structured data, where it carries one
            shown = read_ofd_invoice(ofd.fields, shown)
        bill = read_fiscal_bill(ofd.text)
        return _with(read, ofd=ofd, printed=shown, receipt=receipt, fiscal_bill=bill)
    if file.media_type == XLSX:
        return _with(read, workbook=read_workbook(file.data))
    return read


def _seals(
    data: bytes, anchors: TrustAnchors | None, verifier: Sm2Verifier | None
) -> tuple[CheckedSignature, ...]:
    if verifier is None:
        return (CheckedSignature("", problem=NOT_CONFIGURED),)
    return verifier.ofd_seals(data, anchors or TrustAnchors())


def read_upload(
    voucher: UploadedFile,
    attachments: list[UploadedFile],
    anchors: TrustAnchors | None = None,
    sm2: Sm2Verifier | None = None,
) -> list[ReadFile]:
    """Every file of an upload read here, in this process (the service reads each in the pool)."""
    return [read_file(n, f, anchors, sm2) for n, f in enumerate([voucher, *attachments])]


def unreadable_file(position: int, file: UploadedFile, reason: str) -> ReadFile:
    """A file the pool could not read (a limit, a parser fault): the checks name why."""
    ref, sm3 = _ref(position, file)
    return ReadFile(ref, file.role, file.media_type, len(file.data), sm3, unreadable=reason)


def _with(read: ReadFile, **found: object) -> ReadFile:
    return replace(read, **found)  # type: ignore[arg-type]
