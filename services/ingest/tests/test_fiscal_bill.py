"""Fiscal e-bills (财政电子票据) at intake: read from their text, keyed by 票据代码 + 票据号码 and
the payer, booked once (a second booking is 重复入账), held until a trusted signature confirms
them; kept with the record."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from contracts.records import CheckOutcome
from contracts.types import utc_now
from devkit.pki import Authority, sign_pdf
from devkit.sample_invoices import FISCAL_BILL_LINES, text_pdf
from ingest.domain.files import UploadedFile
from ingest.domain.intake import Assessment, assess, ingested_event
from ingest.parsers.files import read_upload
from ingest.parsers.fiscal_bill import read_fiscal_bill
from ingest.parsers.signatures import TrustAnchors

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
VOUCHER = (SAMPLES / "vouchers" / "2025-03-ji-0001.json").read_bytes()
BILL = (SAMPLES / "attachments" / "fiscal-bill-31060125-0012345678.pdf").read_bytes()
TITLE = "上海市非税收入统一票据（电子）"
KEY = "财政票据:31060125-0012345678@91310115MA1K4XYZ0P"


def checked(
    bill: bytes, booked: dict[str, str] | None = None, anchors: TrustAnchors | None = None
) -> Assessment:
    doc = json.loads(VOUCHER) | {"attachment_count": 1}
    voucher = UploadedFile("voucher", "v.json", "application/json", json.dumps(doc).encode())
    attachment = UploadedFile("attachment", "票据.pdf", "application/pdf", bill)
    files = read_upload(voucher, [attachment], anchors)
    return assess(files, virus_scan=[None, None], scanner="ClamAV", booked=booked)


def line(a: Assessment, code: str) -> tuple[CheckOutcome, str]:
    r = next(r for r in a.report if r.code == code)
    return r.outcome, r.detail


def test_a_fiscal_bill_is_read_from_its_text() -> None:
    bill = read_fiscal_bill("\n".join([TITLE, *FISCAL_BILL_LINES]))
    assert bill is not None and bill.problem is None
    assert (bill.code, bill.number, bill.kind) == ("31060125", "0012345678", TITLE)
    assert (bill.payer, bill.payer_id) == ("上海澄明科技有限公司", "91310115MA1K4XYZ0P")
    assert (bill.issue_date, str(bill.total), bill.check_code) == ("2025-03-18", "80.00", "7c2e9a")
    assert bill.payee == "上海市浦东新区不动产登记事务中心"


def test_a_fiscal_bill_is_booked_once_per_payer_and_held_until_confirmed() -> None:
    a = checked(BILL)
    assert a.accepted and a.review_required
    source, detail = line(a, "AAP-INVOICE-SOURCE")
    assert source is CheckOutcome.FAILED and "fiscal e-bill 31060125-0012345678" in detail
    [bill] = a.fiscal_bills
    assert bill.booking_key == KEY and bill.total.amount == 80
    event = ingested_event(
        a, document_id=uuid.uuid4(), bucket="b", submitted_by="u", at=utc_now(), source_export=None
    )
    assert event.fiscal_bills == (bill,)
    again = checked(BILL, booked={KEY: "rec-1"})
    assert not again.accepted
    [problem] = [p for p in again.problems if "重复入账" in p.message]
    assert "fiscal e-bill 31060125-0012345678 is already booked by its payer in record rec-1" in (
        problem.message
    )
    # Another payer's bill of the same number is not this one.
    other = text_pdf(TITLE, *(ln.replace("91310115MA1K4XYZ0P", "91310000MA1FL0000X")
                              for ln in FISCAL_BILL_LINES))  # fmt: skip
    assert checked(other, booked={KEY: "rec-1"}).accepted


def test_a_bill_signed_by_a_trusted_signer_is_not_held() -> None:
    registry = Authority.root("某财政电子票据 CA")
    signed = sign_pdf(BILL, registry.issue("上海市浦东新区不动产登记事务中心", "上海市财政局"))
    a = checked(signed, anchors=TrustAnchors(registry.pem()))
    assert line(a, "AAP-INVOICE-SOURCE")[0] is CheckOutcome.PASSED
    assert a.accepted and not a.review_required, a.report


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (("开票日期：2025-03-18", "开票日期：2025-13-45"), "is not a date"),
        (("（小写）80.00", "（小写）"), "金额合计（小写）"),
    ],
)
def test_a_bill_whose_fields_cannot_be_read_is_named_and_held(
    change: tuple[str, str], named: str
) -> None:
    broken = text_pdf(TITLE, *(ln.replace(*change) for ln in FISCAL_BILL_LINES))
    a = checked(broken)
    assert a.accepted and a.review_required and not a.fiscal_bills
    source, detail = line(a, "AAP-INVOICE-SOURCE")
    assert source is CheckOutcome.FAILED and named in detail, detail


def test_the_report_says_what_each_attachment_was_read_as() -> None:
    """A format intake cannot read is kept as a plain attachment, and the report says so,
    beside what it did read (AAP-ATTACHMENT-KINDS)."""
    doc = json.loads(VOUCHER) | {"attachment_count": 2}
    voucher = UploadedFile("voucher", "v.json", "application/json", json.dumps(doc).encode())
    unknown = b"<BankReceipt><No>20250320104411000102</No></BankReceipt>"
    files = read_upload(
        voucher,
        [
            UploadedFile("attachment", "票据.pdf", "application/pdf", BILL),
            UploadedFile("attachment", "回单.xml", "application/xml", unknown),
        ],
    )
    a = assess(files, virus_scan=[None] * 3, scanner="ClamAV")
    outcome, detail = line(a, "AAP-ATTACHMENT-KINDS")
    assert outcome is CheckOutcome.PASSED
    assert "票据.pdf" in detail and "fiscal e-bill 31060125-0012345678" in detail
    assert "回单.xml" in detail and "no e-voucher recognised in it" in detail
