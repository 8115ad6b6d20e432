"""The 数电票 XML as real ones are shaped (财政部 电子凭证会计数据标准): its TaxBureauSignature kept
as fixity information, and a 红字 invoice read as its own invoice offsetting a blue one."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from contracts.records import CheckOutcome
from contracts.types import utc_now
from ingest.domain.files import UploadedFile
from ingest.domain.intake import Assessment, assess, ingested_event
from ingest.parsers.files import read_upload

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
VOUCHER = (SAMPLES / "vouchers" / "2025-03-ji-0001.json").read_bytes()
BLUE = (SAMPLES / "attachments" / "einvoice-25312000000012345678.xml").read_text("utf-8")
RED_NUMBER = "25312000000099990001"


def red(offsets: str | None = "25312000000012345678", total: str = "-1280.00") -> bytes:
    """The red invoice that reverses the sample: InIssuType N, negative amounts, and the blue
    one it offsets in SpecificInformation/RedEInvoice."""
    xml = BLUE.replace("25312000000012345678", RED_NUMBER)
    xml = xml.replace("<LabelCode>Y</LabelCode>", "<LabelCode>N</LabelCode>")
    for amount in ("1207.55", "72.45"):
        xml = xml.replace(f">{amount}<", f">-{amount}<")
    xml = xml.replace(">1280.00<", f">{total}<").replace("<Quantity>2<", "<Quantity>-2<")
    specific = (
        f"<SpecificInformation><RedEInvoice><OriginalInvoiceCode>{offsets}</OriginalInvoiceCode>"
        "<CreditNoteNumber>11010125030300000001</CreditNoteNumber></RedEInvoice>"
        "</SpecificInformation>"
        if offsets
        else "<SpecificInformation/>"
    )
    return xml.replace("<SpecificInformation/>", specific).encode()


def checked(invoice: bytes, **voucher: object) -> Assessment:
    doc = json.loads(VOUCHER) | voucher
    v = UploadedFile("voucher", "v.json", "application/json", json.dumps(doc).encode())
    x = UploadedFile("attachment", "invoice.xml", "application/xml", invoice)
    return assess(read_upload(v, [x]), virus_scan=[None, None], scanner="ClamAV")


def line(a: Assessment, code: str) -> tuple[CheckOutcome, str]:
    r = next(r for r in a.report if r.code == code)
    return r.outcome, r.detail


def test_the_tax_bureaus_signature_is_kept_as_fixity_information() -> None:
    a = checked(BLUE.encode())
    event = ingested_event(
        a, document_id=uuid.uuid4(), bucket="b", submitted_by="erp", at=utc_now(),
        source_export=None,
    )  # fmt: skip
    kept = event.files[1].bureau_signature
    assert kept is not None
    assert (kept.bureau, kept.algorithm, kept.format) == (
        "国家税务总局北京市朝阳区税务局", "1.2.156.10197.1.501", "DETACH"
    )  # fmt: skip
    # SignatureTime is Beijing time: kept in UTC, with its zone.
    assert kept.signed_at == datetime(2025, 3, 3, 2, 12, 47, tzinfo=UTC)
    assert "/Einvoice/TaxSupervisionInfo" in kept.reference and len(kept.value_sha256) == 64
    outcome, detail = line(a, "1-1")
    assert outcome is CheckOutcome.NOT_PERFORMED and "its authenticity rests on 查验" in detail
    assert line(a, "AAP-SIGNED")[0] is CheckOutcome.PASSED


def test_a_rail_ticket_issued_as_a_数电票_is_read_and_keyed_like_any() -> None:
    ticket = BLUE.replace("<LabelName>普通发票</LabelName>", "<LabelName>铁路电子客票</LabelName>")
    a = checked(ticket.encode())
    [ref] = a.invoices
    assert ref.kind == "电子发票（铁路电子客票）"
    assert ref.booking_key == "25312000000012345678@91310115MA1K4XYZ0P"
    assert checked(BLUE.encode()).invoices[0].kind == "电子发票（普通发票）"


def test_a_red_invoice_is_its_own_invoice_offsetting_the_blue_one() -> None:
    a = checked(red(), summary="冲销差旅费")
    [ref] = a.invoices
    assert (ref.invoice_number, ref.reversal, ref.offsets) == (
        RED_NUMBER, True, "25312000000012345678"
    )  # fmt: skip
    assert ref.total.amount == Decimal("-1280.00")
    assert line(a, "AAP-INVOICE-MATCH")[0] is CheckOutcome.PASSED
    assert line(a, "1-5")[0] is CheckOutcome.PASSED  # negative amounts add up as positive ones


def test_a_red_invoice_naming_no_blue_one_or_with_a_positive_total_is_held() -> None:
    unnamed = checked(red(offsets=None))
    assert "names no blue invoice it offsets" in line(unnamed, "AAP-INVOICE-MATCH")[1]
    assert unnamed.accepted and unnamed.review_required
    positive = red(total="1280.00").replace(b">-1207.55<", b">1207.55<")
    positive = positive.replace(b">-72.45<", b">72.45<").replace(b"<Quantity>-2<", b"<Quantity>2<")
    assert "whose total is not negative" in line(checked(positive), "AAP-INVOICE-MATCH")[1]
