"""An e-invoice read from the text of its printout (a PDF's text layer, an OFD's text).

A 数电票 arrives as XML, OFD or PDF; a PDF or OFD is a printout (版式文件) whose text anyone can
edit, so what is read here is unauthenticated: it serves the duplicate-booking check, and the
upload is held for review until a signature or 查验 confirms it (AAP-INVOICE-SOURCE). The
labels are those a 数电票 printout carries: 发票号码, 开票日期, 名称 and
统一社会信用代码/纳税人识别号 of 购买方 then 销售方 (left to right, as a reader extracts them),
合计 (amount and tax), 价税合计（小写）.
An older e-invoice prints 发票代码 (10 or 12 digits) beside an 8-digit 发票号码, and a 普通发票 its
校验码 (20 digits, printed in groups of five), whose last six 查验 asks with.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from ingest.parsers.einvoice import EInvoice

# [0-9], never \d: \d takes any script's digits (٠…٩), which no number of these is.
_NUMBER = re.compile(r"发票号码[:：]?\s*([0-9]{20}|[0-9]{8})(?![0-9])")
_CODE = re.compile(r"发票代码[:：]?\s*([0-9]{12}|[0-9]{10})(?![0-9])")
_CHECK = re.compile(r"校\s*验\s*码[:：]?\s*((?:[0-9]\s*){20})(?![0-9])")
_DATE = re.compile(r"开票日期[:：]?\s*([0-9]{4})\s*年\s*([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*日")
_TAX_ID = re.compile(r"(?:统一社会信用代码/纳税人识别号|纳税人识别号)[:：]?\s*([0-9A-Z]{15,20})")
_NAME = re.compile(r"名\s*称[:：]\s*(\S+)")
_SUM = re.compile(r"合\s*计\s*[¥￥]?\s*(-?[0-9,]+\.[0-9]{2})\s+[¥￥]?\s*(-?[0-9,]+\.[0-9]{2})")
_TOTAL = re.compile(r"[（(]\s*小写\s*[)）]\s*[¥￥]?\s*(-?[0-9,]+\.[0-9]{2})")


@dataclass(frozen=True)
class PrintedInvoice:
    """What a printout's text says: the invoice, or only its number with why the rest could
    not be read (it then escapes no check silently: the report names it)."""

    number: str
    invoice: EInvoice | None
    problem: str | None = None


def read_printed_invoice(text: str) -> PrintedInvoice | None:
    """The invoice a printout's text shows; None if it shows no invoice number."""
    number = _NUMBER.search(text)
    if number is None:
        return None
    code = _CODE.search(text)
    check = _CHECK.search(text)
    date = _DATE.search(text)
    tax_ids = _TAX_ID.findall(text)
    names = _NAME.findall(text)
    total = _TOTAL.search(text)
    missing = [
        label
        for label, found in (
            ("开票日期", date),
            ("购买方 and 销售方 纳税人识别号", len(tax_ids) >= 2),
            ("价税合计（小写）", total),
        )
        if not found
    ]
    if missing or date is None or total is None:
        return PrintedInvoice(number[1], None, f"its printout does not show {', '.join(missing)}")
    year, month, day = (int(g) for g in date.groups())
    try:
        issued = datetime.date(year, month, day).isoformat()
    except ValueError:
        return PrintedInvoice(number[1], None, f"its 开票日期 {date[0]} is not a date")
    amounts = _SUM.search(text)
    buyer, seller = [*names, "", ""][:2]
    return PrintedInvoice(
        number[1],
        EInvoice(
            invoice_number=number[1],
            invoice_code=code[1] if code else None,
            check_code=re.sub(r"\s", "", check[1]) if code and check else None,
            issue_date=issued,
            seller_tax_id=tax_ids[1],
            seller_name=seller,
            buyer_tax_id=tax_ids[0],
            buyer_name=buyer,
            amount=_amount(amounts[1]) if amounts else None,
            tax=_amount(amounts[2]) if amounts else None,
            total=_amount(total[1]),
            lines=(),
            signed=False,
            source="printout_text",
        ),
    )


def _amount(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))
