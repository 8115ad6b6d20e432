"""Bank e-receipts (银行电子回单): read from their text, matched to the voucher's 银行存款 line,
booked once per receipt and side (the payer and the payee each archive their own)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from contracts.records import CheckOutcome
from devkit.sample_invoices import RECEIPT_LINES, text_pdf
from ingest.domain.files import UploadedFile
from ingest.domain.intake import Assessment, assess
from ingest.parsers.bank_receipt import read_bank_receipt
from ingest.parsers.files import read_upload

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
RECEIPT = (SAMPLES / "attachments" / "bank-receipt-20250320-0004412.pdf").read_bytes()
RECEIVED: dict[str, Any] = json.loads(
    (SAMPLES / "vouchers" / "2025-03-ji-0003.json").read_text("utf-8")
)
NUMBER = "20250320104411000102"


def paid() -> dict[str, Any]:
    """The payer's side of the same transfer: 杭州禾木 credits its bank with the amount."""
    entries = [
        {"summary": "支付货款", "account_code": "2202", "account_name": "应付账款—上海澄明",
         "debit": "56500.00", "credit": "0"},
        {"summary": "支付货款", "account_code": "100201", "account_name": "银行存款—工行西湖支行",
         "debit": "0", "credit": "56500.00"},
    ]  # fmt: skip
    return RECEIVED | {"company_name": "杭州禾木贸易有限公司", "fonds_code": "H001",
                       "summary": "支付上海澄明货款", "entries": entries}  # fmt: skip


def checked(
    voucher: dict[str, Any], receipt: bytes = RECEIPT, booked: dict[str, str] | None = None
) -> Assessment:
    v = UploadedFile("voucher", "v.json", "application/json", json.dumps(voucher).encode())
    files = read_upload(v, [UploadedFile("attachment", "回单.pdf", "application/pdf", receipt)])
    return assess(files, virus_scan=[None, None], scanner="ClamAV", booked=booked)


def line(a: Assessment, code: str) -> tuple[CheckOutcome, str]:
    r = next(r for r in a.report if r.code == code)
    return r.outcome, r.detail


def test_a_receipt_is_read_from_its_text() -> None:
    receipt = read_bank_receipt("\n".join(RECEIPT_LINES))
    assert receipt is not None and receipt.problem is None
    assert (receipt.number, receipt.transaction_date, receipt.amount) == (
        NUMBER, "2025-03-20", Decimal("56500.00")
    )  # fmt: skip
    assert (receipt.payer_account, receipt.payee_account) == (
        "3301040000001234567", "1001234567890123456"
    )  # fmt: skip
    assert read_bank_receipt("ICBC electronic bank receipt (credit advice)") is None


def test_a_receipt_matching_the_bank_line_passes_and_is_kept_with_its_side() -> None:
    a = checked(RECEIVED)
    assert line(a, "AAP-RECEIPT-MATCH")[0] is CheckOutcome.PASSED
    [receipt] = a.receipts
    assert (receipt.number, receipt.side) == (NUMBER, "payee")
    assert receipt.booking_key == f"回单:{NUMBER}@1001234567890123456"
    assert a.accepted and not a.review_required, a.report


def test_a_receipt_booked_again_on_the_same_side_is_refused_the_other_side_is_not() -> None:
    first = checked(RECEIVED)
    [receipt] = first.receipts
    again = checked(RECEIVED | {"voucher_no": "记-0093"}, booked={receipt.booking_key: "rec-1"})
    assert not again.accepted
    assert (
        f"bank receipt {NUMBER} is already booked by its payee in record rec-1 (重复入账)"
        in (line(again, "AAP-DUPLICATE-BOOKING")[1])
    )
    payer = checked(paid(), booked={receipt.booking_key: "rec-1"})
    [their_side] = payer.receipts
    assert their_side.side == "payer" and payer.accepted  # each company books its own side
    assert line(payer, "AAP-DUPLICATE-BOOKING")[0] is CheckOutcome.PASSED


def test_a_receipt_for_another_amount_or_after_the_voucher_is_held_naming_it() -> None:
    other = dict(RECEIVED)
    other["entries"] = [
        {**e, "debit": "5650.00" if e["debit"] != "0" else "0",
         "credit": "5650.00" if e["credit"] != "0" else "0"}
        for e in RECEIVED["entries"]
    ]  # fmt: skip
    a = checked(other)
    assert "matches no 银行存款 (1002) line" in line(a, "AAP-RECEIPT-MATCH")[1]
    assert a.accepted and a.review_required
    early = checked(RECEIVED | {"voucher_date": "2025-03-19"})
    assert "dated 2025-03-20, after the voucher" in line(early, "AAP-RECEIPT-MATCH")[1]


def test_a_receipt_whose_fields_cannot_be_read_is_named_never_a_plain_attachment() -> None:
    lines = [ln for ln in RECEIPT_LINES if not ln.startswith("金额（小写）")]
    a = checked(RECEIVED, text_pdf("中国工商银行 电子回单", *lines))
    outcome, detail = line(a, "AAP-RECEIPT-MATCH")
    assert outcome is CheckOutcome.FAILED
    assert f"bank receipt {NUMBER}: its text does not show 金额" in detail
    assert "could not be checked for duplicate booking" in detail
