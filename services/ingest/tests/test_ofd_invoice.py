"""An e-invoice OFD read from its structured data (CustomData of OFD.xml, or an eInvoice custom
tag pointing at its page's text objects), booked once with its XML, and held until confirmed."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from contracts.records import CheckOutcome
from devkit.sample_invoices import SAMPLE_OFDS, Carrier, ofd
from ingest.domain.files import UploadedFile
from ingest.domain.intake import Assessment, assess
from ingest.parsers.files import read_file, read_upload

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
VOUCHER = (SAMPLES / "vouchers" / "2025-03-ji-0001.json").read_bytes()
XML = (SAMPLES / "attachments" / "einvoice-25312000000012345678.xml").read_bytes()
HOTEL = SAMPLE_OFDS["einvoice-25312000000012345678.ofd"]


def attachment(data: bytes, name: str = "发票.ofd") -> UploadedFile:
    media_type = "application/ofd" if name.endswith(".ofd") else "application/xml"
    return UploadedFile("attachment", name, media_type, data)


def checked(*attachments: UploadedFile, booked: dict[str, str] | None = None) -> Assessment:
    doc = json.loads(VOUCHER) | {"attachment_count": 1}
    voucher = UploadedFile("voucher", "v.json", "application/json", json.dumps(doc).encode())
    files = read_upload(voucher, list(attachments))
    return assess(files, virus_scan=[None] * len(files), scanner="ClamAV", booked=booked)


def line(a: Assessment, code: str) -> tuple[CheckOutcome, str]:
    r = next(r for r in a.report if r.code == code)
    return r.outcome, r.detail


@pytest.mark.parametrize("carrier", ["custom_data", "custom_tag", "attachment"])
def test_an_ofd_invoice_is_read_from_its_structured_data(carrier: Carrier) -> None:
    read = read_file(1, attachment(ofd(HOTEL, carrier)))
    assert read.printed is not None and read.printed.invoice is not None
    invoice = read.printed.invoice
    assert (invoice.invoice_number, invoice.issue_date) == (HOTEL.number, HOTEL.issued)
    assert (invoice.buyer_tax_id, invoice.seller_tax_id) == (HOTEL.buyer[1], HOTEL.seller[1])
    assert (invoice.buyer_name, invoice.seller_name) == (HOTEL.buyer[0], HOTEL.seller[0])
    assert invoice.total == HOTEL.total and invoice.source == "ofd_data"


def test_an_ofd_alone_is_booked_and_held_until_confirmed() -> None:
    a = checked(attachment(ofd(HOTEL)))
    [ref] = a.invoices
    assert (ref.invoice_number, ref.source) == (HOTEL.number, "ofd_data")
    outcome, detail = line(a, "AAP-INVOICE-SOURCE")
    assert outcome is CheckOutcome.FAILED and "OFD's structured data" in detail
    assert a.accepted and a.review_required
    again = checked(attachment(ofd(HOTEL)), booked={ref.booking_key: "rec-1"})
    assert not again.accepted
    assert (
        "重复入账); read from the OFD's structured data" in line(again, "AAP-DUPLICATE-BOOKING")[1]
    )


def test_the_xml_and_the_ofd_of_one_invoice_are_one_booking() -> None:
    doc = json.loads(VOUCHER) | {"attachment_count": 1}
    voucher = UploadedFile("voucher", "v.json", "application/json", json.dumps(doc).encode())
    files = read_upload(voucher, [attachment(XML, "invoice.xml"), attachment(ofd(HOTEL))])
    a = assess(files, virus_scan=[None] * 3, scanner="ClamAV")
    [ref] = a.invoices  # the XML's: the OFD is its printout
    assert (ref.source, ref.printout_sha256) == ("xml", files[2].ref.sha256)
    assert line(a, "AAP-DUPLICATE-BOOKING")[0] is CheckOutcome.PASSED
    assert line(a, "2-8")[0] is CheckOutcome.PASSED  # the printout is no attachment of its own


def rezipped(data: bytes, **replaced: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, replaced.get(info.filename, src.read(info)))
    return out.getvalue()


def test_structured_data_that_cannot_be_an_invoice_is_named_never_passed() -> None:
    root = zipfile.ZipFile(io.BytesIO(ofd(HOTEL))).read("OFD.xml").decode()
    impossible = root.replace("2025年03月03日", "2025年13月45日").encode()
    a = checked(attachment(rezipped(ofd(HOTEL), **{"OFD.xml": impossible})))
    outcome, detail = line(a, "AAP-INVOICE-SOURCE")
    assert outcome is CheckOutcome.FAILED, detail
    assert f"invoice {HOTEL.number}: its structured data does not give 开票日期" in detail
    assert "could not be checked for duplicate booking" in detail


def test_a_custom_tag_pointing_out_of_the_package_reads_nothing_from_there() -> None:
    tagged = ofd(HOTEL, "custom_tag")
    package = zipfile.ZipFile(io.BytesIO(tagged))
    document = package.read("Doc_0/Document.xml").replace(
        b"Tags/CustomTags.xml", b"../../../etc/CustomTags.xml"
    )
    read = read_file(1, attachment(rezipped(tagged, **{"Doc_0/Document.xml": document})))
    assert read.ofd is not None and read.ofd.problem is None
    assert read.ofd.fields == {}  # nothing structured: the page's text is read as a printout's
    assert read.printed is not None and read.printed.invoice is not None
    assert read.printed.invoice.source == "printout_text"


@pytest.mark.parametrize("written", ["12345678901357924680", "12345 67890 13579 24680"])
def test_an_older_invoice_s_校验码_is_read_from_its_structured_data(written: str) -> None:
    from ingest.parsers.ofd_invoice import TAGGED, read_ofd_invoice

    assert TAGGED["InvoiceCheckCode"] == "校验码"  # a custom tag's name for the same field
    fields = {
        "发票代码": "031001900111", "发票号码": "04512877", "开票日期": "2020年06月18日",
        "购买方纳税人识别号": "91310115MA1K4XYZ0P", "销售方纳税人识别号": "91310104MA1FR8XX1Q",
        "价税合计": "500.00", "校验码": written,
    }  # fmt: skip
    read = read_ofd_invoice(fields, None)
    assert read.invoice is not None, read.problem
    assert read.invoice.check_code == "12345678901357924680"
    assert read_ofd_invoice({**fields, "校验码": "1234"}, None).invoice.check_code is None  # type: ignore[union-attr]
