"""Fuzzing every reader of untrusted bytes: whatever comes, each answers with what it read or
why it cannot, and the intake judges it; nothing raises (a 500 in the service) or runs away."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from openpyxl import Workbook
from pypdf import PdfReader

from contracts.records import CheckOutcome, CheckResult, FiscalBillRef, InvoiceRef
from contracts.types import Money
from devkit.fuzzing import JSON, TooSlow, fuzz_settings, mutated, within
from devkit.pki import Authority, sign_pdf, sign_xml
from devkit.sample_invoices import FISCAL_BILL_LINES, RECEIPT_LINES, SAMPLE_OFDS, ofd
from devkit.sm2 import Sm2Authority
from devkit.sm2 import verifier as sm2_verifier
from ingest.domain.intake import assess
from ingest.parsers.archive_package import read_package_entries, read_package_index
from ingest.parsers.bank_receipt import read_bank_receipt
from ingest.parsers.einvoice import EInvoice
from ingest.parsers.files import UploadedFile, read_file, read_upload
from ingest.parsers.fiscal_bill import read_fiscal_bill
from ingest.parsers.invoice_text import read_printed_invoice
from ingest.parsers.journal import load_profiles
from ingest.parsers.journal_file import read_journal_file
from ingest.parsers.ofd_invoice import read_ofd_invoice
from ingest.parsers.signatures import CheckedSignature, TrustAnchors
from ingest.parsers.sm2_verifier import Sm2Verifier
from ingest.parsers.tables import JournalLimits
from ingest.parsers.voucher import read_voucher

pytestmark = pytest.mark.fuzz
ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "samples"
VOUCHER = (SAMPLES / "vouchers" / "2025-03-ji-0001.json").read_bytes()
INVOICE = (SAMPLES / "attachments" / "einvoice-25312000000012345678.xml").read_bytes()
PDF = (SAMPLES / "attachments" / "einvoice-25312000000087654321.pdf").read_bytes()  # a 数电票
CSV = (SAMPLES / "journals" / "kingdee-k3-2025-04.csv").read_bytes()
XML_JOURNAL = (SAMPLES / "journals" / "erp-export-2025-05.xml").read_bytes()
MATERIAL = (SAMPLES / "materials" / "2025-zongzhang.json").read_bytes()
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PROFILES = load_profiles(ROOT / "services" / "ingest" / "src" / "ingest" / "profiles")
LIMITS = JournalLimits(max_rows=2_000, max_columns=64, max_cells=50_000)


def judged(voucher: bytes, *attachments: UploadedFile) -> None:
    """Read and judged as the service does (the pool's time limit as an alarm)."""
    with within(20):
        files = read_upload(
            UploadedFile("voucher", "v.json", "application/json", voucher), list(attachments)
        )
    assess(files, virus_scan=[None] * len(files), scanner="fuzz")


def xlsx(csv_text: bytes) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for line in csv_text.decode("utf-8-sig").splitlines():
        ws.append(line.split(","))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


XLSX = xlsx(CSV)


def journal(data: bytes, name: str) -> None:
    with tempfile.NamedTemporaryFile(suffix=name) as f:
        f.write(data)
        f.flush()
        with within(20):
            read = read_journal_file(
                Path(f.name),
                name,
                PROFILES["kingdee-k3"],
                fonds_code="Q001",
                company_name="上海澄明科技有限公司",
                limits=LIMITS,
            )
        for v in read.vouchers:
            if v.document is not None:
                judged(v.document)


@fuzz_settings()
@given(st.binary(max_size=4000) | mutated(VOUCHER))
def test_any_voucher_export_is_read_or_refused(data: bytes) -> None:
    read_voucher(data)
    judged(data)


@fuzz_settings()
@given(st.sampled_from(sorted(json.loads(VOUCHER))), JSON)
def test_any_value_in_any_voucher_field_is_read_or_refused(field: str, value: object) -> None:
    doc = json.loads(VOUCHER)
    doc[field] = value
    judged(json.dumps(doc, ensure_ascii=False).encode())


@fuzz_settings()
@given(mutated(INVOICE))
def test_any_e_invoice_xml_is_read_or_refused(data: bytes) -> None:
    judged(VOUCHER, UploadedFile("attachment", "invoice.xml", "application/xml", data))


@fuzz_settings()
@given(
    st.sampled_from(
        ["TotalTax-includedAmount", "IssueTime", "InvoiceNumber", "BuyerName", "TaxRate"]
    ),
    st.text(max_size=40),
)
def test_any_text_in_an_e_invoice_field_is_read_or_refused(element: str, text: str) -> None:
    start = INVOICE.index(f"<{element}>".encode()) + len(element) + 2
    end = INVOICE.index(f"</{element}>".encode())
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").encode("utf-8", "surrogatepass")
    judged(
        VOUCHER,
        UploadedFile(
            "attachment",
            "invoice.xml",
            "application/xml",
            INVOICE[:start] + escaped + INVOICE[end:],
        ),
    )


def material_judged(description: bytes, *files: UploadedFile) -> None:
    """A material's upload read and judged as the service does."""
    with within(20):
        read = read_upload(
            UploadedFile("description", "m.json", "application/json", description), list(files)
        )
    assess(read, virus_scan=[None] * len(read), scanner="fuzz")


@fuzz_settings()
@given(st.binary(max_size=4000) | mutated(MATERIAL))
def test_any_material_description_is_read_or_refused(data: bytes) -> None:
    material_judged(data, UploadedFile("attachment", "s.pdf", "application/pdf", PDF))


@fuzz_settings()
@given(st.sampled_from(sorted(json.loads(MATERIAL))), JSON)
def test_any_value_in_any_material_field_is_read_or_refused(field: str, value: object) -> None:
    doc = json.loads(MATERIAL)
    doc[field] = value
    pdf = UploadedFile("attachment", "s.pdf", "application/pdf", PDF)
    material_judged(json.dumps(doc, ensure_ascii=False).encode(), pdf)


@fuzz_settings()
@given(mutated(XLSX))
def test_any_workbook_of_a_material_is_read_or_refused(data: bytes) -> None:
    with contextlib.suppress(TooSlow):
        material_judged(MATERIAL, UploadedFile("attachment", "总账.xlsx", XLSX_TYPE, data))


PRINTOUT_TEXT = PdfReader(io.BytesIO(PDF)).pages[0].extract_text()
LABELS = [
    "发票号码：",
    "发票代码：",
    "开票日期：",
    "名称：",
    "纳税人识别号：",
    "合  计",
    "（小写）¥",
]


def as_contract(invoice: EInvoice) -> InvoiceRef:
    """What intake makes of an invoice read: a valid contract, or the test fails."""
    return InvoiceRef(
        invoice_number=invoice.invoice_number,
        seller_tax_id=invoice.seller_tax_id,
        buyer_tax_id=invoice.buyer_tax_id,
        issue_date=invoice.issue_date,
        total=Money(amount=invoice.total),
        file_sha256="0" * 64,
        source=invoice.source,
        check_code=invoice.check_code,
    )


@fuzz_settings()
@given(
    st.text(max_size=2000)
    | st.lists(st.sampled_from(LABELS) | st.text(max_size=30), max_size=40).map("".join)
    | st.integers(0, len(PRINTOUT_TEXT)).flatmap(
        lambda cut: st.text(max_size=20).map(
            lambda t: PRINTOUT_TEXT[:cut] + t + PRINTOUT_TEXT[cut:]
        )
    )
)
def test_any_printout_text_is_read_as_an_invoice_or_named(text: str) -> None:
    """A text layer says what its author wants: read as an invoice with its date, parties and
    total; or its number named with what is missing; or nothing, never a crash."""
    printed = read_printed_invoice(text)
    if printed is None:
        return
    assert printed.number.isdigit() and len(printed.number) in (8, 20)
    assert (printed.invoice is None) == (printed.problem is not None)
    if printed.invoice is not None:
        as_contract(printed.invoice)


@fuzz_settings()
@given(
    st.lists(
        st.sampled_from(RECEIPT_LINES)
        | st.text(max_size=60)
        | st.from_regex(
            r"金额（小写）：¥-?[\d,]{1,20}\.\d{2}|交易日期：\d{4}年\d{1,2}月\d{1,2}日",
            fullmatch=True,
        ),
        max_size=14,
    )
)
def test_any_receipt_text_is_read_as_a_receipt_or_named(lines: list[str]) -> None:
    """A receipt's text says what its author wants: a transfer with its date, accounts and a
    positive amount, or its number named with what is missing; never a crash."""
    receipt = read_bank_receipt("\n".join(["电子回单", *lines]))
    if receipt is None or receipt.problem:
        return
    assert receipt.amount is not None and 0 < receipt.amount < 10**15
    assert receipt.transaction_date and receipt.payer_account and receipt.payee_account


@fuzz_settings()
@given(
    st.lists(
        st.sampled_from(FISCAL_BILL_LINES)
        | st.text(max_size=60)
        | st.from_regex(
            r"（小写）-?[\d,]{1,20}\.\d{2}|开票日期：\d{4}-\d{1,2}-\d{1,2}|票据号码：\d{10}",
            fullmatch=True,
        ),
        max_size=12,
    )
)
def test_any_fiscal_bill_text_is_read_as_a_bill_or_named(lines: list[str]) -> None:
    """A fiscal e-bill's text says what its author wants: a bill the record can keep (a valid
    contract), or its code and number named with what is missing; never a crash."""
    bill = read_fiscal_bill("\n".join(["非税收入统一票据（电子）", *lines]))
    if bill is None or bill.problem:
        return
    assert bill.total is not None and bill.issue_date and bill.payer
    FiscalBillRef(
        bill_code=bill.code, bill_number=bill.number, kind=bill.kind, issue_date=bill.issue_date,
        payer=bill.payer, payer_id=bill.payer_id, payee=bill.payee,
        total=Money(amount=bill.total), check_code=bill.check_code, file_sha256="0" * 64,
    )  # fmt: skip


OFD_FIELDS = ["发票号码", "发票代码", "开票日期", "合计金额", "合计税额", "价税合计",
              "购买方纳税人识别号", "销售方纳税人识别号", "购买方名称", "销售方名称",
              "校验码"]  # fmt: skip
HOTEL_OFD = (SAMPLES / "attachments" / "einvoice-25312000000012345678.ofd").read_bytes()


@fuzz_settings()
@given(
    st.dictionaries(
        st.sampled_from(OFD_FIELDS),
        st.text(max_size=40)
        | st.from_regex(
            r"\d{20}|\d{8}|\d{12}|\d{4}年\d{1,2}月\d{1,2}日|-?\d{1,9}\.\d{2}|(\d{5} ){3}\d{5}",
            fullmatch=True,
        ),
    )
)
def test_any_ofd_structured_data_is_read_as_an_invoice_or_named(fields: dict[str, str]) -> None:
    """An OFD's CustomData says what its author wants: an invoice with a date, parties and a
    total, or its number named with what is missing; never a crash."""
    read = read_ofd_invoice(fields, None)
    assert (read.invoice is None) == (read.problem is not None)
    if read.invoice is not None:
        assert read.invoice.total.is_finite()
        as_contract(read.invoice)


@fuzz_settings()
@given(mutated(HOTEL_OFD))
def test_any_ofd_invoice_package_is_read_or_refused(data: bytes) -> None:
    with contextlib.suppress(TooSlow):
        judged(VOUCHER, UploadedFile("attachment", "发票.ofd", "application/ofd", data))


@fuzz_settings()
@given(mutated(ofd(SAMPLE_OFDS["einvoice-25312000000012345678.ofd"], "attachment")))
def test_any_ofd_with_an_attached_invoice_is_read_or_refused(data: bytes) -> None:
    with contextlib.suppress(TooSlow):
        judged(VOUCHER, UploadedFile("attachment", "发票.ofd", "application/ofd", data))


@fuzz_settings()
@given(mutated(PDF))
def test_any_pdf_is_read_or_refused(data: bytes) -> None:
    with contextlib.suppress(TooSlow):  # the service's pool refuses it, naming its time limit
        judged(VOUCHER, UploadedFile("attachment", "scan.pdf", "application/pdf", data))


# A bank's e-receipt signed by a CA trusted for these tests: mutated, it must never pass 1-1.
SIGNER = Authority.root("模糊测试 根证书")
RECEIPT = (SAMPLES / "attachments" / "bank-receipt-20250320-0004411.pdf").read_bytes()
SIGNED = sign_pdf(RECEIPT, SIGNER.issue("模糊测试 签名人", "模糊测试公司"))
SM2 = Sm2Verifier((str(sm2_verifier()),))
CONTENTS = SIGNED.index(b"/Contents <")  # the signature itself: outside what it signs


def fixity(
    name: str, media_type: str, data: bytes, anchors: TrustAnchors, sm2: Sm2Verifier | None = None
) -> tuple[CheckResult, tuple[CheckedSignature, ...]]:
    """1-1 of a voucher with this one attachment, and the attachment's signatures as read."""
    with within(20):
        files = read_upload(
            UploadedFile("voucher", "v.json", "application/json", VOUCHER),
            [UploadedFile("attachment", name, media_type, data)],
            anchors,
            sm2,
        )
    report = assess(files, virus_scan=[None, None], scanner="fuzz").report
    return next(r for r in report if r.code == "1-1"), files[1].signatures


@fuzz_settings()
@given(st.integers(0, len(SIGNED) - 1), st.integers(1, 255))
def test_a_signed_pdf_changed_anywhere_it_signed_never_passes_1_1(at: int, flip: int) -> None:
    """One byte changed anywhere under the signature (its digest, an object, the xref): 1-1
    never passes, whatever else the file then is."""
    changed = bytearray(SIGNED)
    changed[at] ^= flip
    assume(not CONTENTS <= at < SIGNED.index(b">", CONTENTS))
    fixity_1_1, signatures = fixity(
        "r.pdf", "application/pdf", bytes(changed), TrustAnchors(SIGNER.pem())
    )
    assert fixity_1_1.outcome is not CheckOutcome.PASSED or not signatures, fixity_1_1


@fuzz_settings()
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                ["OFD.xml", "Doc_0/Pages/Page_0/Content.xml", "Doc_0/Signs/Signatures.xml", "x"]
            ),
            st.binary(max_size=300)
            | mutated(
                b'<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:TextCode>1280.00</ofd:TextCode></ofd:OFD>'
            ),
        ),
        max_size=4,
    )
)
def test_any_ofd_package_is_read_or_refused(entries: list[tuple[str, bytes]]) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(name, data)
    data = buf.getvalue()
    judged(VOUCHER, UploadedFile("attachment", "i.ofd", "application/ofd", data))
    read_file(1, UploadedFile("attachment", "i.ofd", "application/ofd", data[: len(data) // 2]))


@fuzz_settings()
@given(
    st.binary(max_size=3000)
    | mutated(CSV)
    | st.text(max_size=2000).map(lambda t: t.encode("utf-8", "surrogatepass"))
)
def test_any_csv_journal_is_read_or_refused(data: bytes) -> None:
    journal(data, ".csv")


@fuzz_settings()
@given(mutated(XLSX))
def test_any_excel_journal_is_read_or_refused(data: bytes) -> None:
    with contextlib.suppress(TooSlow):
        journal(data, ".xlsx")


@fuzz_settings()
@given(mutated(XML_JOURNAL))
def test_any_xml_journal_is_read_or_refused(data: bytes) -> None:
    journal(data, ".xml")


MANIFEST_FILES = ["manifest.json", "v/1.json", "v/1/a.xml", "../x", "/abs"]


@fuzz_settings()
@given(
    st.lists(
        st.tuples(st.sampled_from(MANIFEST_FILES) | st.text(max_size=12), st.binary(max_size=200)),
        max_size=5,
    ),
    JSON,
)
def test_any_archive_package_is_read_or_refused(
    entries: list[tuple[str, bytes]], manifest: object
) -> None:
    with tempfile.NamedTemporaryFile(suffix=".zip") as f:
        with zipfile.ZipFile(f, "w") as z:
            z.writestr("manifest.json", json.dumps(manifest))
            for name, data in entries:
                if name.split("\0")[0]:  # what zipfile can write: it cuts a name at NUL
                    z.writestr(name, data)
        f.flush()
        with within(20):
            index = read_package_index(Path(f.name))
            for v in index.vouchers:
                read_package_entries(Path(f.name), [v.voucher, *v.attachments])


# The same receipt signed with SM2 (its CMS checked by the SM2 verifier): likewise.
SM2_CA = Sm2Authority.make(Path(tempfile.mkdtemp(prefix="fuzz-sm2-pdf-")), "模糊测试 SM2 根证书")
SM2_SIGNED = SM2_CA.sign_pdf(RECEIPT, "模糊测试 签名人", "模糊测试公司")
SM2_CONTENTS = SM2_SIGNED.index(b"/Contents <")


@fuzz_settings()
@given(st.integers(0, len(SM2_SIGNED) - 1), st.integers(1, 255))
def test_an_sm2_signed_pdf_changed_anywhere_it_signed_never_passes_1_1(at: int, flip: int) -> None:
    changed = bytearray(SM2_SIGNED)
    changed[at] ^= flip
    assume(not SM2_CONTENTS <= at < SM2_SIGNED.index(b">", SM2_CONTENTS))
    fixity_1_1, signatures = fixity(
        "r.pdf", "application/pdf", bytes(changed), TrustAnchors(SM2_CA.pem()), SM2
    )
    assert fixity_1_1.outcome is not CheckOutcome.PASSED or not signatures, fixity_1_1


# An XML signed with XMLDSig by the same CA: a byte changed in what it signed, 1-1 never passes
# (bytes outside it, the XML declaration or the certificate's line breaks, may change freely).
XML_SIGNED = sign_xml(
    b"<BankReceipt><No>20250320104411000102</No><Amount>56500.00</Amount></BankReceipt>",
    SIGNER.issue("模糊测试 签名人", "模糊测试公司"),
)


@fuzz_settings()
@given(st.integers(0, len(XML_SIGNED) - 1), st.integers(1, 127))
def test_a_signed_xml_changed_anywhere_never_passes_1_1(at: int, flip: int) -> None:
    changed = bytearray(XML_SIGNED)
    changed[at] ^= flip
    assume(bytes(changed).strip() != XML_SIGNED.strip())
    fixity_1_1, signatures = fixity(
        "r.xml", "application/xml", bytes(changed), TrustAnchors(SIGNER.pem())
    )
    if fixity_1_1.outcome is CheckOutcome.PASSED and signatures:
        assert signed_content(bytes(changed)) == signed_content(XML_SIGNED), fixity_1_1


def signed_content(xml: bytes) -> str:
    """What an enveloped signature over the whole file signs: the document, canonical, without
    the signature."""
    root = ElementTree.fromstring(xml)  # noqa: S314 - the test's own document, read already
    for signature in root.findall("{http://www.w3.org/2000/09/xmldsig#}Signature"):
        root.remove(signature)
    return ElementTree.canonicalize(ElementTree.tostring(root, encoding="unicode"))


# An OFD invoice sealed under an SM2 CA trusted for these tests (GB/T 38540, the real verifier):
# a byte of any file it holds changed, 1-1 never passes. All but Signatures.xml, the list a later
# seal is added to, which no seal protects by design: a list changed so that it names the same
# seals is the same list, and one that drops a seal leaves that seal's files unprotected, which
# fails (test_ofd_seals: the seal dropped from the list).
SEAL_CA = Sm2Authority.make(Path(tempfile.mkdtemp(prefix="fuzz-sm2-")), "模糊测试 电子印章 CA")
SEALED = SEAL_CA.seal(HOTEL_OFD, "模糊测试 发票专用章", "模糊测试公司", "模糊测试公司")
SEALED_ENTRIES = {
    i.filename: zipfile.ZipFile(io.BytesIO(SEALED)).read(i)
    for i in zipfile.ZipFile(io.BytesIO(SEALED)).infolist()
    if not i.is_dir() and not i.filename.endswith("Signatures.xml")
}
LIST = "Doc_0/Signs/Signatures.xml"


@fuzz_settings()
@given(st.sampled_from(sorted(SEALED_ENTRIES)), st.integers(0, 10**6), st.integers(1, 255))
def test_a_sealed_ofd_changed_in_any_file_never_passes_1_1(name: str, at: int, flip: int) -> None:
    content = bytearray(SEALED_ENTRIES[name])
    content[at % len(content)] ^= flip
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for entry, data in SEALED_ENTRIES.items():
            z.writestr(entry, bytes(content) if entry == name else data)
        z.writestr(LIST, zipfile.ZipFile(io.BytesIO(SEALED)).read(LIST))
    fixity_1_1, _ = fixity(
        "发票.ofd", "application/ofd", out.getvalue(), TrustAnchors(SEAL_CA.pem()), SM2
    )
    assert fixity_1_1.outcome is not CheckOutcome.PASSED, (name, fixity_1_1)
