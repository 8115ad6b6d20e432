"""The four-property check (四性检测) on real-shaped uploads: pass, reject, or review."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

from pypdf import PdfWriter

from contracts.records import CheckOutcome
from ingest.domain.files import UploadedFile
from ingest.domain.four_property import CHECKS, DEFAULT_POLICY
from ingest.domain.intake import Assessment, assess

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
VOUCHER = (SAMPLES / "vouchers" / "2025-03-ji-0001.json").read_bytes()
INVOICE_XML = (SAMPLES / "attachments" / "einvoice-25312000000012345678.xml").read_bytes()
PDF = (SAMPLES / "attachments" / "einvoice-25312000000087654321.pdf").read_bytes()


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


def outcome(a: Assessment, code: str) -> tuple[CheckOutcome, str]:
    r = next(r for r in a.report if r.code == code)
    return r.outcome, r.detail


def test_the_table_names_each_da_t_70_item_once_with_a_policy() -> None:
    codes = [c.code for c in CHECKS]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[1-4]-\d{1,2}", c) for c in codes)
    assert set(DEFAULT_POLICY) == set(codes)
    assert {c.property for c in CHECKS} == {"authenticity", "integrity", "usability", "security"}


def test_a_proper_voucher_with_its_signed_e_invoice_passes_every_check_performed() -> None:
    a = assess(voucher(), [xml(INVOICE_XML)])
    assert a.accepted and not a.review_required
    failed = [r.code for r in a.report if r.outcome is CheckOutcome.FAILED]
    assert failed == []
    assert outcome(a, "4-2")[0] is CheckOutcome.NOT_PERFORMED  # no virus scanner configured
    [invoice] = a.invoices
    assert invoice.invoice_number == "25312000000012345678"
    assert invoice.seller_tax_id == "91110105MA01ABCD2X"
    assert str(invoice.total.amount) == "1280.00"


def test_an_unsigned_e_invoice_is_held_for_review() -> None:
    unsigned = re.sub(rb"<ds:Signature.*</ds:Signature>", b"", INVOICE_XML, flags=re.S)
    a = assess(voucher(), [xml(unsigned)])
    assert a.accepted and a.review_required
    assert outcome(a, "1-1") == (
        CheckOutcome.FAILED,
        "invoice.xml: the e-invoice XML carries no signature",
    )


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
        a = assess(voucher(), [xml(attack)])
        assert not a.accepted
        state, detail = outcome(a, "3-1")
        assert state is CheckOutcome.FAILED and "DTDs and entities are not allowed" in detail


def test_an_e_invoice_xml_declared_in_gbk_is_read_like_utf8() -> None:
    gbk = INVOICE_XML.decode().replace('encoding="UTF-8"', 'encoding="GBK"').encode("gbk")
    a = assess(voucher(), [xml(gbk)])
    assert a.accepted and not a.review_required
    [invoice] = a.invoices
    assert (invoice.seller_name, invoice.buyer_name) == (
        "北京国贸嘉华酒店管理有限公司",
        "上海澄明科技有限公司",
    )


def test_malformed_xml_and_a_broken_e_invoice_are_named() -> None:
    a = assess(voucher(), [xml(b"<EInvoice><Header>")])
    assert "malformed XML" in outcome(a, "3-1")[1]
    no_number = INVOICE_XML.replace(b"<InvoiceNumber>25312000000012345678</InvoiceNumber>", b"")
    a = assess(voucher(), [xml(no_number)])
    assert "TaxSupervisionInfo/InvoiceNumber is missing" in outcome(a, "3-1")[1]
    assert not a.accepted


def test_tax_that_is_not_amount_times_rate_is_unreasonable() -> None:
    wrong = INVOICE_XML.replace(b"<ComTaxAm>72.45</ComTaxAm>", b"<ComTaxAm>62.45</ComTaxAm>")
    a = assess(voucher(), [xml(wrong)])
    assert not a.accepted
    state, detail = outcome(a, "1-5")
    assert state is CheckOutcome.FAILED
    assert "tax 62.45 ≠ 1207.55 × 0.06" in detail and "line taxes do not add up" in detail


def test_an_invoice_already_booked_or_attached_twice_is_a_duplicate() -> None:
    a = assess(voucher(), [xml(INVOICE_XML)], booked={"25312000000012345678": "rec-1"})
    assert not a.accepted
    assert "already booked in record rec-1" in outcome(a, "1-8")[1]
    a = assess(voucher(attachment_count=2), [xml(INVOICE_XML), xml(INVOICE_XML, "copy.xml")])
    assert "attached twice" in outcome(a, "1-8")[1]


def test_encrypted_pdf_and_a_fake_pdf_are_rejected() -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt("secret")
    buf = io.BytesIO()
    writer.write(buf)
    a = assess(voucher(), [pdf(buf.getvalue())])
    assert outcome(a, "3-8") == (CheckOutcome.FAILED, "scan.pdf: PDF is encrypted")
    a = assess(voucher(), [pdf(b"GIF89a not a pdf")])
    assert outcome(a, "1-3")[0] is CheckOutcome.FAILED and not a.accepted
    a = assess(voucher(), [pdf(PDF)])
    assert a.accepted


def test_ofd_packages_must_be_readable_and_unencrypted() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("Doc_0/Document.xml", "<Document/>")
    a = assess(voucher(), [UploadedFile("attachment", "i.ofd", "application/ofd", buf.getvalue())])
    assert "no OFD.xml" in outcome(a, "3-4")[1]
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("OFD.xml", "<ofd:OFD")
    a = assess(
        voucher(), [UploadedFile("attachment", "b.ofd", "application/ofd", broken.getvalue())]
    )
    assert outcome(a, "3-4")[1].startswith("b.ofd: OFD.xml: malformed XML")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("OFD.xml", "<OFD/>")
        z.writestr("Doc_0/Pages/Page_0/Content.xml", "<a>" + "b" * 5_000_000 + "</a>")
    a = assess(voucher(), [UploadedFile("attachment", "x.ofd", "application/ofd", bomb.getvalue())])
    assert not a.accepted and "(a zip bomb?)" in outcome(a, "3-4")[1]


def test_xml_in_utf16_is_xml_too() -> None:
    utf16 = INVOICE_XML.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    a = assess(voucher(), [xml(utf16)])
    assert outcome(a, "1-3")[0] is CheckOutcome.PASSED
    assert [i.invoice_number for i in a.invoices] == ["25312000000012345678"]


def test_missing_attachments_and_one_person_preparing_and_reviewing_ask_for_review() -> None:
    a = assess(voucher(attachment_count=3, reviewer="张伟"), [xml(INVOICE_XML)])
    assert a.accepted and a.review_required
    assert outcome(a, "2-8")[1] == "3 attachments declared (附件张数), 1 uploaded"
    assert "same person (张伟)" in outcome(a, "2-5")[1]


def test_control_characters_in_text_ask_for_review() -> None:
    a = assess(voucher(summary="报销\u0007差旅费"), [xml(INVOICE_XML)])
    assert a.review_required
    assert outcome(a, "1-6") == (CheckOutcome.FAILED, "summary: contains control characters")


def test_an_unreadable_voucher_is_rejected_and_dependent_checks_not_performed() -> None:
    a = assess(UploadedFile("voucher", "v.json", "application/json", b"{"), [])
    assert not a.accepted
    assert outcome(a, "3-4")[0] is CheckOutcome.FAILED
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
    a = assess(
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
    a = assess(voucher(), [xml(INVOICE_XML), printout])
    [invoice] = a.invoices
    assert invoice.printout_sha256 == hashlib.sha256(printout.data).hexdigest()
    assert a.accepted and not a.review_required
    other = ofd({"Page_0": "发票号码：25312000000099999999"}, "other.ofd")
    [invoice] = assess(voucher(attachment_count=2), [xml(INVOICE_XML), other]).invoices
    assert invoice.printout_sha256 is None


def test_more_attachments_than_declared_ask_for_review_too() -> None:
    a = assess(voucher(attachment_count=1), [xml(INVOICE_XML), pdf(PDF)])
    assert a.accepted and a.review_required
    assert outcome(a, "2-8") == (
        CheckOutcome.FAILED,
        "1 attachments declared (附件张数), 2 uploaded",
    )


def test_an_invoice_that_disagrees_with_its_voucher_or_printout_is_held_for_review() -> None:
    other_buyer = INVOICE_XML.replace(
        "上海澄明科技有限公司".encode(), "杭州别家贸易有限公司".encode()
    )
    a = assess(voucher(voucher_date="2025-03-02"), [xml(other_buyer)])
    assert a.accepted and a.review_required
    result, detail = outcome(a, "1-10")
    assert result is CheckOutcome.FAILED
    assert "made out to 杭州别家贸易有限公司, not to 上海澄明科技有限公司" in detail
    assert "dated 2025-03-03, after the voucher (2025-03-02)" in detail

    wrong_printout = text_pdf("Invoice No. 25312000000012345678 Total 1820.00")
    a = assess(voucher(attachment_count=2), [xml(INVOICE_XML), pdf(wrong_printout, "p.pdf")])
    assert outcome(a, "1-10") == (
        CheckOutcome.FAILED,
        "p.pdf: the printout of invoice 25312000000012345678 does not show its total 1280.00",
    )
    assert outcome(assess(voucher(), [xml(INVOICE_XML)]), "1-10")[0] is CheckOutcome.PASSED
    spaced = INVOICE_XML.replace("上海澄明科技有限公司".encode(), "上海澄明科技 有限公司".encode())
    a = assess(voucher(), [xml(spaced)])
    assert outcome(a, "1-10")[0] is CheckOutcome.PASSED  # the same name, spaced differently
    brackets = INVOICE_XML.replace(
        "上海澄明科技有限公司".encode(), "澄明科技（上海）有限公司".encode()
    )
    a = assess(voucher(company_name="澄明科技(上海)有限公司"), [xml(brackets)])
    assert outcome(a, "1-10")[0] is CheckOutcome.PASSED  # full-width brackets are the same
    separated = text_pdf("Invoice No. 25312000000012345678 Total 1,280.00")
    a = assess(voucher(attachment_count=1), [xml(INVOICE_XML), pdf(separated, "p.pdf")])
    assert outcome(a, "1-10")[0] is CheckOutcome.PASSED
    assert outcome(assess(voucher(), []), "1-10")[0] is CheckOutcome.NOT_PERFORMED


def test_the_virus_scan_rejects_what_clamd_found_and_says_when_it_did_not_run() -> None:
    clean = {"v.json": None, "invoice.xml": None}
    a = assess(voucher(), [xml(INVOICE_XML)], virus_scan=clean)
    assert outcome(a, "4-2") == (CheckOutcome.PASSED, "") and a.accepted
    a = assess(
        voucher(), [xml(INVOICE_XML)], virus_scan={**clean, "invoice.xml": "Win.Test.EICAR_HDB-1"}
    )
    assert outcome(a, "4-2") == (CheckOutcome.FAILED, "invoice.xml: Win.Test.EICAR_HDB-1 found")
    assert not a.accepted
    assert outcome(assess(voucher(), [xml(INVOICE_XML)]), "4-2")[0] is CheckOutcome.NOT_PERFORMED
