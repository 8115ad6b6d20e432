"""An e-invoice read from an OFD's structured data, where the OFD carries it.

Three shapes are seen in e-invoice OFDs, and read here:
- ``OFD.xml``: ``DocBody/DocInfo/CustomDatas/CustomData Name="发票号码"``…, the fields by their
  Chinese names (a 数电票 OFD: 发票号码, 开票日期 as 2025年01月06日, 购买方纳税人识别号,
  销售方纳税人识别号, 合计金额, 合计税额; an older e-invoice's adds 发票代码, 价税合计, 校验码 and
  the parties' 名称);
- a custom tag (GB/T 33190 自定义标引: ``Document.xml`` → ``CustomTags.xml`` → an ``eInvoice``
  document) whose elements (InvoiceNo, IssueDate, BuyerTaxID…) point at the page's text objects
  (``ObjectRef PageRef="1"`` → the ``TextObject ID`` whose ``TextCode`` holds the value);
- the original invoice XML an older e-invoice OFD carries as an attachment
  (``Attachs/original_invoice.xml``), its elements named as the custom tag's, the parties'
  grouped under Buyer and Seller (as published OFD invoice extractors read it).

Both are data beside the printout, not a signature: anyone can edit them as they can edit the
text, so an invoice read here serves the duplicate-booking check and is held until 查验 or a
verified 签章 confirms it, as a printout's text is (AAP-INVOICE-SOURCE).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from ingest.parsers.einvoice import EInvoice
from ingest.parsers.invoice_text import PrintedInvoice

# A custom tag's element → the name the CustomData carries the same field under.
TAGGED = {
    "InvoiceCode": "发票代码",
    "InvoiceNo": "发票号码",
    "IssueDate": "开票日期",
    "BuyerName": "购买方名称",
    "BuyerTaxID": "购买方纳税人识别号",
    "SellerName": "销售方名称",
    "SellerTaxID": "销售方纳税人识别号",
    "TaxExclusiveTotalAmount": "合计金额",
    "TaxTotalAmount": "合计税额",
    "TaxInclusiveTotalAmount": "价税合计",
    "InvoiceCheckCode": "校验码",
}
_CHECK_CODE = re.compile(r"^[0-9]{20}$")
_NUMBER = re.compile(r"^([0-9]{20}|[0-9]{8})$")
_DATE = re.compile(r"^([0-9]{4})\s*[年-]\s*([0-9]{1,2})\s*[月-]\s*([0-9]{1,2})")


def read_ofd_invoice(fields: Mapping[str, str], text: PrintedInvoice | None) -> PrintedInvoice:
    """The invoice the OFD's fields (by their Chinese names) give; the parties' names, which a
    数电票 OFD's data leaves out, from its text where that shows the same invoice."""
    number = fields.get("发票号码", "").strip()
    if not _NUMBER.match(number):
        return PrintedInvoice(number, None, f"its structured 发票号码 {number!r} is not one")
    issued = _date(fields.get("开票日期", ""))
    amount, tax = _decimal(fields.get("合计金额")), _decimal(fields.get("合计税额"))
    total = _decimal(fields.get("价税合计"))
    if total is None and amount is not None and tax is not None:
        total = amount + tax
    seller, buyer = fields.get("销售方纳税人识别号", ""), fields.get("购买方纳税人识别号", "")
    missing = [
        label
        for label, found in (
            ("开票日期", issued),
            ("价税合计 (or 合计金额 and 合计税额)", total is not None),
            ("销售方纳税人识别号", seller),
            ("购买方纳税人识别号", buyer),
        )
        if not found
    ]
    if missing or issued is None or total is None:
        return PrintedInvoice(
            number, None, f"its structured data does not give {', '.join(missing)}"
        )
    shown = text.invoice if text and text.number == number else None
    return PrintedInvoice(
        number,
        EInvoice(
            invoice_number=number,
            invoice_code=fields.get("发票代码") or None,
            check_code=_check_code(fields.get("校验码", ""), fields.get("发票代码")),
            issue_date=issued,
            seller_tax_id=seller,
            seller_name=fields.get("销售方名称") or (shown.seller_name if shown else ""),
            buyer_tax_id=buyer,
            buyer_name=fields.get("购买方名称") or (shown.buyer_name if shown else ""),
            amount=amount,
            tax=tax,
            total=total,
            lines=(),
            signed=False,
            source="ofd_data",
        ),
    )


def _date(text: str) -> str | None:
    found = _DATE.match(text.strip())
    if found is None:
        return None
    try:
        return datetime.date(*(int(g) for g in found.groups())).isoformat()
    except ValueError:
        return None


def _decimal(text: str | None) -> Decimal | None:
    if not text:
        return None
    try:
        value = Decimal(text.strip().lstrip("¥￥").replace(",", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _check_code(text: str, code: str | None) -> str | None:
    """An older invoice's 校验码, where its data gives one of 20 digits (spaces dropped)."""
    digits = re.sub(r"\s", "", text)
    return digits if code and _CHECK_CODE.match(digits) else None
