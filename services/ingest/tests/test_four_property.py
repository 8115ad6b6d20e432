"""The four-property check (四性检测) on real-shaped uploads: pass, reject, or review."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from decimal import Decimal
from pathlib import Path

from pypdf import PdfWriter

from contracts.checks import REGISTRY, Stage, at
from contracts.records import CheckOutcome
from devkit.sample_invoices import Printout, render
from devkit.sample_invoices import text_pdf as cjk_pdf
from ingest.domain.files import UploadedFile
from ingest.domain.four_property import INTAKE_CHECKS
from ingest.domain.intake import Assessment, assess
from ingest.domain.policy import INTAKE_POLICY
from ingest.parsers.files import read_upload

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
VOUCHER = (SAMPLES / "vouchers" / "2025-03-ji-0001.json").read_bytes()
INVOICE_XML = (SAMPLES / "attachments" / "einvoice-25312000000012345678.xml").read_bytes()
PDF = (SAMPLES / "attachments" / "bank-receipt-20250320-0004411.pdf").read_bytes()  # no invoice
# A 数电票 printout alone: its number read from the text layer (unauthenticated).
INVOICE_PDF = (SAMPLES / "attachments" / "einvoice-25312000000087654321.pdf").read_bytes()
# What the archive performs at accession, beside the intake's table (archive.domain.record).
AT_ACCESSION = {"1-7", "1-11", "2-3", "3-2", "4-7", "AAP-CORRECTION"}


def voucher(**changes: object) -> UploadedFile:
    doc = json.loads(VOUCHER)
    doc.update(changes)
    return UploadedFile(
        "voucher", "v.json", "application/json", json.dumps(doc, ensure_ascii=False).encode()
    )


def xml(data: bytes, name: str = "invoice.xml") -> UploadedFile:
    return UploadedFile("attachment", name, "application/xml", data)


def pdf(data: bytes, name: str = "scan.pdf") -> UploadedFile:
    return UploadedFile("attachment", name, "application/pdf", data)


def checked(
    v: UploadedFile,
    attachments: list[UploadedFile],
    *,
    found: dict[int, str] | None = None,
    scanner: str | None = "ClamAV 1.0.7",
    booked: dict[str, str] | None = None,
) -> Assessment:
    """The upload read and checked, as the service does, scanned clean unless ``found`` (by
    position) says what the scanner found; ``scanner=None``: no scanner configured."""
    files = read_upload(v, attachments)
    scan = [(found or {}).get(n) for n in range(len(files))] if scanner else None
    return assess(files, virus_scan=scan, scanner=scanner, booked=booked)


def outcome(a: Assessment, code: str) -> tuple[CheckOutcome, str]:
    r = next(r for r in a.report if r.code == code)
    return r.outcome, r.detail


def found(a: Assessment, code: str) -> list[tuple[str | None, str]]:
    """(file name, message) of each finding of one item."""
    r = next(r for r in a.report if r.code == code)
    return [(f.file.filename if f.file else None, f.message) for f in r.findings]


def test_the_table_has_each_archiving_item_once_with_its_policy() -> None:
    codes = [item.code for item in INTAKE_CHECKS]
    assert len(codes) == len(set(codes))
    assert set(codes) | AT_ACCESSION == {item.code for item in at(Stage.ARCHIVING)}
    assert set(INTAKE_POLICY) <= set(INTAKE_CHECKS)
    for item in REGISTRY:  # a standard number only where the item is the standard's
        if item.code.startswith("AAP-"):
            assert item.implements is None and item.supports is not None
        else:
            assert item.implements is not None and item.implements.code == item.code
    a = checked(voucher(), [xml(INVOICE_XML)])
    assert [r.code for r in a.report] == codes
    assert {r.property for r in a.report} == {"authenticity", "integrity", "usability", "security"}


def test_a_proper_voucher_with_its_signed_e_invoice_passes_every_check_performed() -> None:
    a = checked(voucher(), [xml(INVOICE_XML)])
    assert a.accepted and not a.review_required
    assert [r.code for r in a.report if r.outcome is CheckOutcome.FAILED] == []
    [invoice] = a.invoices
    assert invoice.invoice_number == "25312000000012345678"
    assert invoice.seller_tax_id == "91110105MA01ABCD2X"
    assert str(invoice.total.amount) == "1280.00"
    # Its signature is there, and cannot be verified here; no 查验 provider is configured in
    # these tests: the conclusion says both.
    assert outcome(a, "1-1")[0] is CheckOutcome.NOT_PERFORMED
    assert "invoice.xml (#1, SHA-256" in outcome(a, "1-1")[1]
    assert (a.conclusion.verdict, a.conclusion.text) == (
        "incomplete",
        "未执行 1-1, AAP-INVOICE-VERIFIED",
    )
    assert outcome(a, "4-3") == (
        CheckOutcome.NOT_APPLICABLE,
        "online transfer: no carrier (disc, tape) is involved",
    )


def test_without_a_virus_scanner_the_report_never_says_passed() -> None:
    a = checked(voucher(), [xml(INVOICE_XML)], scanner=None)
    assert outcome(a, "4-2")[0] is CheckOutcome.NOT_PERFORMED
    assert outcome(a, "4-1")[0] is CheckOutcome.FAILED
    assert a.accepted and a.review_required  # a required item not performed: held for review
    assert a.conclusion.verdict == "failed"
    assert a.conclusion.text == "未通过 4-1；未执行 1-1, AAP-INVOICE-VERIFIED, 4-2"


def test_an_unsigned_e_invoice_is_held_for_review() -> None:
    unsigned = re.sub(rb"<TaxBureauSignature>.*</TaxBureauSignature>", b"", INVOICE_XML, flags=re.S)
    a = checked(voucher(), [xml(unsigned)])
    assert a.accepted and a.review_required
    assert found(a, "AAP-SIGNED") == [("invoice.xml", "the e-invoice XML carries no signature")]
    # Nothing signed to verify: its fixity is the digests recorded here.
    assert outcome(a, "1-1")[0] is CheckOutcome.PASSED


def test_entity_bombs_and_external_entities_are_refused_not_expanded() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<EInvoice>&lol2;</EInvoice>"
    )
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<EInvoice>&e;</EInvoice>"
    )
    for attack in (bomb, xxe):
        a = checked(voucher(), [xml(attack)])
        assert not a.accepted
        state, detail = outcome(a, "3-4")
        assert state is CheckOutcome.FAILED and "DTDs and entities are not allowed" in detail


def test_an_e_invoice_xml_declared_in_gbk_is_read_like_utf8() -> None:
    gbk = INVOICE_XML.decode().replace('encoding="utf-8"', 'encoding="GBK"').encode("gbk")
    a = checked(voucher(), [xml(gbk)])
    assert a.accepted and not a.review_required
    [invoice] = a.invoices
    assert (invoice.seller_name, invoice.buyer_name) == (
        "北京国贸嘉华酒店管理有限公司",
        "上海澄明科技有限公司",
    )


def test_malformed_xml_and_a_broken_e_invoice_are_named() -> None:
    a = checked(voucher(), [xml(b"<EInvoice><Header>")])
    assert "malformed XML" in outcome(a, "3-4")[1]
    no_number = INVOICE_XML.replace(b"<InvoiceNumber>25312000000012345678</InvoiceNumber>", b"")
    a = checked(voucher(), [xml(no_number)])
    assert "TaxSupervisionInfo/InvoiceNumber is missing" in outcome(a, "3-4")[1]
    assert not a.accepted
    for odd in (b"NaN", b"1e400", b"1280.001", b"12" * 20):  # no amount, or not one of 分
        a = checked(voucher(), [xml(INVOICE_XML.replace(b">1280.00<", b">" + odd + b"<"))])
        assert not a.accepted and "TotalTax-includedAmount" in outcome(a, "3-4")[1]


def test_tax_that_is_not_amount_times_rate_is_unreasonable() -> None:
    wrong = INVOICE_XML.replace(b"<ComTaxAm>72.45</ComTaxAm>", b"<ComTaxAm>62.45</ComTaxAm>")
    a = checked(voucher(), [xml(wrong)])
    assert not a.accepted
    state, detail = outcome(a, "1-5")
    assert state is CheckOutcome.FAILED
    assert "tax 62.45 ≠ 1207.55 × 0.06" in detail and "line taxes do not add up" in detail


BUYER = "91310115MA1K4XYZ0P"  # 上海澄明科技有限公司, the sample vouchers' company


def test_an_invoice_already_booked_or_attached_twice_is_a_duplicate() -> None:
    key = f"25312000000012345678@{BUYER}"  # the invoice, and the party booking it (its buyer)
    a = checked(voucher(), [xml(INVOICE_XML)], booked={key: "rec-1"})
    assert not a.accepted
    # A business control (重复入账), under its own code: 1-8 is the document's own key.
    assert "already booked by its buyer in record rec-1" in outcome(a, "AAP-DUPLICATE-BOOKING")[1]
    assert outcome(a, "1-8")[0] is CheckOutcome.PASSED
    a = checked(voucher(attachment_count=2), [xml(INVOICE_XML), xml(INVOICE_XML, "copy.xml")])
    assert "attached twice" in outcome(a, "AAP-DUPLICATE-BOOKING")[1]
    [invoice] = checked(voucher(), [xml(INVOICE_XML)]).invoices
    assert (invoice.booked_by, invoice.booking_key) == ("buyer", key)


def test_the_seller_books_its_own_side_of_an_invoice_it_issued() -> None:
    """Group companies trading with each other each archive their side: the buyer's booking
    does not refuse the seller's (销项), and the seller's key is its own tax id."""
    seller = "北京国贸嘉华酒店管理有限公司"
    sale = voucher(company_name=seller)
    bought = {f"25312000000012345678@{BUYER}": "the buyer's record"}
    a = checked(sale, [xml(INVOICE_XML)], booked=bought)
    assert a.accepted and outcome(a, "AAP-DUPLICATE-BOOKING")[0] is CheckOutcome.PASSED
    assert outcome(a, "AAP-INVOICE-MATCH")[0] is CheckOutcome.PASSED  # issued by the company
    [invoice] = a.invoices
    assert invoice.booked_by == "seller"
    assert invoice.booking_key == f"25312000000012345678@{invoice.seller_tax_id}"
    again = checked(sale, [xml(INVOICE_XML)], booked={invoice.booking_key: "rec-9"})
    assert (
        "already booked by its seller in record rec-9" in outcome(again, "AAP-DUPLICATE-BOOKING")[1]
    )


def test_a_printout_alone_is_read_booked_and_held_until_confirmed() -> None:
    """A 数电票 that arrives as PDF only: its number, parties and total read from the text
    layer, used for the duplicate check, and the upload held for review (anyone can edit it)."""
    a = checked(voucher(), [pdf(INVOICE_PDF, "发票.pdf")])
    assert a.accepted and a.review_required
    [invoice] = a.invoices
    assert (invoice.invoice_number, invoice.source) == ("25312000000087654321", "printout_text")
    assert (invoice.buyer_tax_id, invoice.seller_tax_id) == (BUYER, "91310104MA1FL2QR3T")
    assert (invoice.issue_date, str(invoice.total.amount)) == ("2025-03-11", "1000.00")
    state, detail = outcome(a, "AAP-INVOICE-SOURCE")
    assert state is CheckOutcome.FAILED and "read from the printout's text only" in detail
    booked = {f"25312000000087654321@{BUYER}": "rec-2"}
    twice = checked(voucher(), [pdf(INVOICE_PDF, "发票.pdf")], booked=booked)
    assert not twice.accepted
    assert (
        "25312000000087654321 is already booked by its buyer in record rec-2 (重复入账)"
        in (outcome(twice, "AAP-DUPLICATE-BOOKING")[1])
    )


def test_the_xml_and_the_pdf_of_one_invoice_are_one_booking() -> None:
    printout = render(
        Printout(
            number="25312000000012345678",
            issued="2025-03-03",
            kind="普通发票",
            buyer=("上海澄明科技有限公司", BUYER),
            seller=("北京国贸嘉华酒店管理有限公司", "91110105MA01ABCD2X"),
            item="*住宿服务*住宿费",
            amount=Decimal("1207.55"),
            rate="6%",
            tax=Decimal("72.45"),
            drawer="王敏",
        )
    )
    a = checked(voucher(attachment_count=1), [xml(INVOICE_XML), pdf(printout, "p.pdf")])
    [invoice] = a.invoices  # counted once, from its XML
    assert invoice.source == "xml" and invoice.printout_sha256 is not None
    assert outcome(a, "AAP-INVOICE-SOURCE")[0] is CheckOutcome.PASSED
    assert outcome(a, "AAP-DUPLICATE-BOOKING")[0] is CheckOutcome.PASSED


def test_a_printout_whose_fields_cannot_be_read_is_named_not_passed() -> None:
    illegible = cjk_pdf("电子发票（普通发票）", "发票号码：25312000000055555555", "（污损）")
    a = checked(voucher(), [pdf(illegible)])
    assert a.accepted and a.review_required
    assert a.invoices == []
    assert found(a, "AAP-INVOICE-SOURCE") == [
        (
            "scan.pdf",
            "invoice 25312000000055555555: its printout does not show 开票日期, 购买方 and "
            "销售方 纳税人识别号, 价税合计（小写）; it could not be checked for duplicate booking",
        )
    ]


def test_a_file_in_a_format_the_archive_does_not_preserve_is_held_for_review() -> None:
    """3-5: the environment a file's electronic attributes record (its format and version)."""
    a = checked(voucher(), [xml(INVOICE_XML)])
    assert outcome(a, "3-5")[0] is CheckOutcome.PASSED
    odd = checked(voucher(), [xml(INVOICE_XML.replace(b'version="1.0"', b'version="9.9"', 1))])
    state, detail = outcome(odd, "3-5")
    assert state is CheckOutcome.FAILED and "XML 9.9" in detail
    assert odd.accepted and odd.review_required


def test_encrypted_pdf_and_a_fake_pdf_are_rejected() -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt("secret")
    buf = io.BytesIO()
    writer.write(buf)
    a = checked(voucher(), [pdf(buf.getvalue())])
    assert found(a, "3-8") == [("scan.pdf", "PDF is encrypted")]
    a = checked(voucher(), [pdf(b"GIF89a not a pdf")])
    assert outcome(a, "1-10")[0] is CheckOutcome.FAILED and not a.accepted
    a = checked(voucher(), [pdf(PDF)])
    assert a.accepted


def test_ofd_packages_must_be_readable_and_unencrypted() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("Doc_0/Document.xml", "<Document/>")
    a = checked(voucher(), [UploadedFile("attachment", "i.ofd", "application/ofd", buf.getvalue())])
    assert "no OFD.xml" in outcome(a, "3-4")[1]
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("OFD.xml", "<ofd:OFD")
    a = checked(
        voucher(), [UploadedFile("attachment", "b.ofd", "application/ofd", broken.getvalue())]
    )
    [(name, message)] = found(a, "3-4")
    assert name == "b.ofd" and message.startswith("OFD.xml: malformed XML")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("OFD.xml", "<OFD/>")
        z.writestr("Doc_0/Pages/Page_0/Content.xml", "<a>" + "b" * 5_000_000 + "</a>")
    a = checked(
        voucher(), [UploadedFile("attachment", "x.ofd", "application/ofd", bomb.getvalue())]
    )
    assert not a.accepted and "(a zip bomb?)" in outcome(a, "3-4")[1]


def test_xml_in_utf16_is_xml_too() -> None:
    utf16 = INVOICE_XML.decode().replace('encoding="utf-8"', 'encoding="UTF-16"').encode("utf-16")
    a = checked(voucher(), [xml(utf16)])
    assert outcome(a, "1-10")[0] is CheckOutcome.PASSED
    assert [i.invoice_number for i in a.invoices] == ["25312000000012345678"]


def test_missing_attachments_and_one_person_preparing_and_reviewing_ask_for_review() -> None:
    a = checked(voucher(attachment_count=3, reviewer="张伟"), [xml(INVOICE_XML)])
    assert a.accepted and a.review_required
    assert found(a, "2-8") == [("v.json", "3 attachments declared (附件张数), 1 uploaded")]
    assert "same person (张伟)" in outcome(a, "2-5")[1]


def test_control_characters_in_text_ask_for_review() -> None:
    a = checked(voucher(summary="报销\u0007差旅费"), [xml(INVOICE_XML)])
    assert a.review_required
    assert found(a, "1-6") == [("v.json", "contains control characters")]


def test_an_unreadable_voucher_is_rejected_and_dependent_checks_not_performed() -> None:
    a = checked(UploadedFile("voucher", "v.json", "application/json", b"{"), [])
    assert not a.accepted
    assert outcome(a, "3-1")[0] is CheckOutcome.FAILED  # the metadata cannot be read
    assert outcome(a, "2-4")[0] is CheckOutcome.NOT_PERFORMED
    assert outcome(a, "2-5")[0] is CheckOutcome.NOT_PERFORMED


def text_pdf(line: str) -> bytes:
    """A one-page PDF showing ``line`` (ASCII) in Helvetica."""
    content = f"BT /F1 12 Tf 50 800 Td ({line}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_the_signed_xml_is_the_original_and_its_pdf_printout_is_linked() -> None:
    printout = text_pdf("Invoice No. 25312000000012345678 Total 1280.00")
    a = checked(
        voucher(attachment_count=2), [xml(INVOICE_XML), pdf(printout, "printout.pdf"), pdf(PDF)]
    )
    [invoice] = a.invoices
    assert invoice.file_sha256 == hashlib.sha256(INVOICE_XML).hexdigest()  # the XML is the original
    assert invoice.printout_sha256 == hashlib.sha256(printout).hexdigest()
    assert outcome(a, "2-8")[0] is CheckOutcome.PASSED  # the printout is no attachment of its own


def ofd(pages: dict[str, str], name: str = "invoice.ofd") -> UploadedFile:
    """An OFD package whose pages show the given text (one TextCode each)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("OFD.xml", '<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>')
        for page, text in pages.items():
            z.writestr(
                f"Doc_0/Pages/{page}/Content.xml",
                '<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer>'
                f'<ofd:TextObject ID="1"><ofd:TextCode X="0" Y="0">{text}</ofd:TextCode>'
                "</ofd:TextObject></ofd:Layer></ofd:Content></ofd:Page>",
            )
    return UploadedFile("attachment", name, "application/ofd", buf.getvalue())


def test_an_ofd_printout_is_linked_to_its_signed_xml_like_a_pdf() -> None:
    printout = ofd({"Page_0": "发票号码：25312000000012345678", "Page_1": "价税合计 ¥1280.00"})
    a = checked(voucher(), [xml(INVOICE_XML), printout])
    [invoice] = a.invoices
    assert invoice.printout_sha256 == hashlib.sha256(printout.data).hexdigest()
    assert a.accepted and not a.review_required
    other = ofd({"Page_0": "发票号码：25312000000099999999"}, "other.ofd")
    [invoice] = checked(voucher(attachment_count=2), [xml(INVOICE_XML), other]).invoices
    assert invoice.printout_sha256 is None


def test_more_attachments_than_declared_ask_for_review_too() -> None:
    a = checked(voucher(attachment_count=1), [xml(INVOICE_XML), pdf(PDF)])
    assert a.accepted and a.review_required
    assert found(a, "2-8") == [("v.json", "1 attachments declared (附件张数), 2 uploaded")]


def test_an_invoice_that_disagrees_with_its_voucher_or_printout_is_held_for_review() -> None:
    other_buyer = INVOICE_XML.replace(
        "上海澄明科技有限公司".encode(), "杭州别家贸易有限公司".encode()
    )
    a = checked(voucher(voucher_date="2025-03-02"), [xml(other_buyer)])
    assert a.accepted and a.review_required
    result, detail = outcome(a, "AAP-INVOICE-MATCH")
    assert result is CheckOutcome.FAILED
    assert (
        "made out to 杭州别家贸易有限公司 by 北京国贸嘉华酒店管理有限公司, neither of them "
        in detail
    )
    assert "dated 2025-03-03, after the voucher (2025-03-02)" in detail

    wrong_printout = text_pdf("Invoice No. 25312000000012345678 Total 1820.00")
    a = checked(voucher(attachment_count=2), [xml(INVOICE_XML), pdf(wrong_printout, "p.pdf")])
    assert found(a, "AAP-INVOICE-MATCH") == [
        ("p.pdf", "the printout of invoice 25312000000012345678 does not show its total 1280.00")
    ]

    def matches(v: UploadedFile, attachments: list[UploadedFile]) -> CheckOutcome:
        return outcome(checked(v, attachments), "AAP-INVOICE-MATCH")[0]

    assert matches(voucher(), [xml(INVOICE_XML)]) is CheckOutcome.PASSED
    spaced = INVOICE_XML.replace("上海澄明科技有限公司".encode(), "上海澄明科技 有限公司".encode())
    assert matches(voucher(), [xml(spaced)]) is CheckOutcome.PASSED  # spaced differently
    brackets = INVOICE_XML.replace(
        "上海澄明科技有限公司".encode(), "澄明科技（上海）有限公司".encode()
    )
    assert matches(voucher(company_name="澄明科技(上海)有限公司"), [xml(brackets)]) is (
        CheckOutcome.PASSED  # full-width brackets are the same
    )
    separated = text_pdf("Invoice No. 25312000000012345678 Total 1,280.00")
    assert matches(voucher(attachment_count=1), [xml(INVOICE_XML), pdf(separated, "p.pdf")]) is (
        CheckOutcome.PASSED
    )
    assert matches(voucher(), []) is CheckOutcome.NOT_APPLICABLE  # no e-invoice


def test_the_virus_scan_rejects_what_clamd_found_and_says_when_it_did_not_run() -> None:
    a = checked(voucher(), [xml(INVOICE_XML)])
    assert outcome(a, "4-2") == (CheckOutcome.PASSED, "") and a.accepted
    a = checked(voucher(), [xml(INVOICE_XML)], found={1: "Win.Test.EICAR_HDB-1"})
    assert found(a, "4-2") == [("invoice.xml", "Win.Test.EICAR_HDB-1 found")]
    assert not a.accepted
    no_scanner = checked(voucher(), [xml(INVOICE_XML)], scanner=None)
    assert outcome(no_scanner, "4-2")[0] is CheckOutcome.NOT_PERFORMED


def test_two_attachments_with_one_name_are_two_files() -> None:
    """The infected twin of a clean file, under the same name: each is scanned and named on its
    own, by position and digest, so the clean one's result never stands for it."""
    infected = PDF.replace(b"%%EOF", b"% infected\n%%EOF")
    a = checked(
        voucher(attachment_count=2),
        [pdf(PDF, "scan.pdf"), pdf(infected, "scan.pdf")],
        found={2: "AAP.Test.Signature"},
    )
    assert not a.accepted
    [finding] = next(r for r in a.report if r.code == "4-2").findings
    assert finding.file is not None
    assert (finding.file.position, finding.file.sha256) == (2, hashlib.sha256(infected).hexdigest())
    assert f"scan.pdf (#2, SHA-256 {finding.file.sha256[:12]}…)" in outcome(a, "4-2")[1]


# --- materials: ledgers, reports, statements (第六条) ---------------------------------------


def material(**changes: object) -> UploadedFile:
    doc = {
        "format": "aap.material.v1",
        "fonds_code": "Q001",
        "company_name": "上海示例科技有限公司",
        "fiscal_year": 2025,
        "kind": "general_ledger",
        "title": "2025年度总账",
        "responsible": "上海示例科技有限公司财务部",
        "period_from": 1,
        "period_to": 12,
    } | changes
    data = json.dumps({k: v for k, v in doc.items() if v is not None}, ensure_ascii=False)
    return UploadedFile("description", "ledger.json", "application/json", data.encode())


def workbook() -> UploadedFile:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["科目代码", "科目名称", "期初余额"])
    out = io.BytesIO()
    book.save(out)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return UploadedFile("attachment", "总账.xlsx", xlsx, out.getvalue())


def test_a_ledger_with_its_files_passes_and_voucher_items_do_not_apply() -> None:
    a = checked(material(), [pdf(PDF, "总账.pdf"), workbook()])
    assert a.accepted and not a.review_required, a.problems
    assert a.material is not None and a.material.description.title == "2025年度总账"
    for code in ("1-6", "2-5", "3-3", "3-4"):
        assert outcome(a, code)[0] is CheckOutcome.PASSED, code
    assert outcome(a, "2-8") == (CheckOutcome.NOT_APPLICABLE, "a general_ledger is not a voucher")


def test_a_statement_must_name_its_account_and_a_ledger_must_not() -> None:
    a = checked(material(kind="bank_statement", title="2025年3月工行对账单"), [pdf(PDF)])
    assert not a.accepted
    assert any("bank_account names the account" in p.message for p in a.problems)
    a = checked(material(bank_account="100201"), [pdf(PDF)])
    assert not a.accepted
    ok = checked(
        material(kind="bank_statement", period_from=3, period_to=3, bank_account="100201"),
        [pdf(PDF)],
    )
    assert ok.accepted, ok.problems


def test_a_material_without_files_or_with_months_reversed_is_refused_saying_why() -> None:
    a = checked(material(), [])
    assert not a.accepted and found(a, "2-7") == [
        (None, "a material is its files: none was uploaded")
    ]
    a = checked(material(period_from=5, period_to=3), [pdf(PDF)])
    assert [p.message for p in a.problems] == ["Value error, period_from 5 is after period_to 3"]


def test_a_spreadsheet_bomb_among_a_materials_files_is_refused_before_it_is_inflated() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"0" * (20 * 1024 * 1024))
    bomb = UploadedFile("attachment", "总账.xlsx", workbook().media_type, out.getvalue())
    a = checked(material(), [bomb])
    assert not a.accepted
    ((name, message),) = found(a, "3-4")
    assert name == "总账.xlsx" and message.startswith("not a readable Excel workbook")


def test_a_vouchers_formats_are_not_a_materials_and_the_other_way_round() -> None:
    a = checked(voucher(attachment_count=1), [workbook()])
    assert found(a, "3-3") == [
        (
            "总账.xlsx",
            "type application/vnd.openxmlformats-officedocument.spreadsheetml.sheet is not "
            "accepted (PDF, OFD or XML)",
        )
    ]
    a = checked(material(), [UploadedFile("attachment", "a.txt", "text/plain", b"x")])
    assert found(a, "3-3") == [("a.txt", "type text/plain is not accepted (PDF, OFD, XLSX or XML)")]
