"""A bank's electronic receipt (银行电子回单) read from its text (a PDF's or an OFD's).

A receipt proves a transfer: its number (回单编号, or the 交易流水号 where a bank prints no
receipt number), the 交易日期, the amount (小写) and the payer's and payee's accounts (付款人账号,
收款人账号). These labels are those Chinese banks' receipts print; a receipt is recognised by
回单 in its text and one of the number labels. Like a printout's text, what is read here is
unauthenticated: it serves the duplicate-booking check and the match with the voucher's
银行存款 line; a bank's signature on the PDF is what authenticates it (1-1).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

_NUMBER = re.compile(
    r"(?:回单编号|回单号码|电子回单号|交易流水号|流水号)[:：]?\s*([0-9A-Za-z][0-9A-Za-z-]{5,39})"
)
_DATE = re.compile(
    r"(?:交易日期|记账日期|日期)[:：]?\s*([0-9]{4})\s*[-年/.]\s*([0-9]{1,2})\s*[-月/.]\s*([0-9]{1,2})"
)
_AMOUNT = re.compile(
    r"(?:交易金额|金额)\s*(?:[（(]\s*小写\s*[)）])?\s*[:：]?\s*(?:CNY|RMB)?\s*[¥￥]?\s*"
    r"(-?[0-9,]+\.[0-9]{2})"
)
_PAYER = re.compile(r"付款(?:人|方)?账号[:：]?\s*([0-9][0-9 ]{4,38}[0-9])")
_PAYEE = re.compile(r"收款(?:人|方)?账号[:：]?\s*([0-9][0-9 ]{4,38}[0-9])")


@dataclass(frozen=True)
class BankReceipt:
    """What a receipt's text says; ``problem`` names what could not be read (the rest is None),
    so that a receipt whose fields cannot be read is named, never a plain attachment."""

    number: str
    transaction_date: str | None = None
    amount: Decimal | None = None
    payer_account: str | None = None
    payee_account: str | None = None
    problem: str | None = None


def read_bank_receipt(text: str) -> BankReceipt | None:
    """The receipt a text shows; None if it is not a bank receipt's."""
    number = _NUMBER.search(text)
    if "回单" not in text or number is None:
        return None
    date, amount = _DATE.search(text), _AMOUNT.search(text)
    payer, payee = _PAYER.search(text), _PAYEE.search(text)
    missing = [
        label
        for label, found in (
            ("交易日期", date),
            ("金额", amount),
            ("付款人账号", payer),
            ("收款人账号", payee),
        )
        if found is None
    ]
    if missing or date is None or amount is None or payer is None or payee is None:
        return BankReceipt(number[1], problem=f"its text does not show {', '.join(missing)}")
    try:
        day = datetime.date(*(int(g) for g in date.groups())).isoformat()
    except ValueError:
        return BankReceipt(number[1], problem=f"its 交易日期 {date[0]} is not a date")
    value = Decimal(amount[1].replace(",", ""))
    if value <= 0 or value >= Decimal(10) ** 15:
        return BankReceipt(number[1], problem=f"its amount {amount[1]} is not a transfer's")
    return BankReceipt(
        number[1],
        day,
        value,
        payer[1].replace(" ", ""),
        payee[1].replace(" ", ""),
    )
