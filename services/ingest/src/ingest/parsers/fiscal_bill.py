"""A fiscal e-bill (财政电子票据) read from its text (a PDF's or an OFD's).

A public institution (a 不动产登记中心, a hospital, a court) bills a fee or a non-tax payment on
a 财政电子票据 whose number the 财政部门 assigns: an 8-digit 票据代码 (region, class, kind, year)
and a 10-digit 票据号码, the key of the bill. The labels read are those its printouts carry:
票据代码, 票据号码, 交款人统一社会信用代码, 交款人, 开票日期, 校验码, 金额合计（小写）, 收款单位;
its title (…票据（电子）) names its kind. Like a printout's text, what is read here is
unauthenticated: it serves the duplicate-booking check, and the upload is held until a
signature (the issuer's PDF signature or OFD seal, verified, by a signer who chains to a trust
anchor) confirms it.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

# [0-9], never \d: \d takes any script's digits (٠…٩), which no number of these is.
_CODE = re.compile(r"票据代码[:：]?\s*([0-9]{8})(?![0-9])")
_NUMBER = re.compile(r"票据号码[:：]?\s*([0-9]{10})(?![0-9])")
_DATE = re.compile(r"开票日期[:：]?\s*([0-9]{4})\s*[-年/.]\s*([0-9]{1,2})\s*[-月/.]\s*([0-9]{1,2})")
_PAYER_ID = re.compile(r"交款人统一社会信用代码[:：]?\s*([0-9A-Z]{18})(?![0-9A-Z])")
_PAYER = re.compile(r"交款人[:：]\s*(\S+)")
_PAYEE = re.compile(r"收款单位(?:[（(]章[)）])?[:：]\s*(\S+)")
# 金额合计（大写）… （小写）80.00: the figure after 小写, within the same 金额合计
_TOTAL = re.compile(
    r"金额合计[^小]{0,40}[（(]\s*小写\s*[)）][:：]?\s*[¥￥]?\s*(-?[0-9,]+\.[0-9]{2})"
)
_CHECK = re.compile(r"校验码[:：]?\s*([0-9A-Za-z]{6,20})")
_TITLE = re.compile(r"(\S{2,40}票据[（(]电子[)）])")


@dataclass(frozen=True)
class FiscalBill:
    """What a fiscal e-bill's text says; ``problem`` names what could not be read, so that a
    bill whose fields cannot be read is named, never a plain attachment."""

    code: str
    number: str
    kind: str | None = None
    issue_date: str | None = None
    payer: str | None = None
    payer_id: str | None = None
    payee: str = ""
    total: Decimal | None = None
    check_code: str | None = None
    problem: str | None = None

    @property
    def key(self) -> str:
        return f"{self.code}-{self.number}"


def read_fiscal_bill(text: str) -> FiscalBill | None:
    """The fiscal e-bill a text shows; None if it shows no 票据代码 and 票据号码."""
    code, number = _CODE.search(text), _NUMBER.search(text)
    if code is None or number is None:
        return None
    date, payer, total = _DATE.search(text), _PAYER.search(text), _TOTAL.search(text)
    missing = [
        label
        for label, found in (("开票日期", date), ("交款人", payer), ("金额合计（小写）", total))
        if found is None
    ]
    if missing or date is None or payer is None or total is None:
        return FiscalBill(
            code[1], number[1], problem=f"its text does not show {', '.join(missing)}"
        )
    try:
        issued = datetime.date(*(int(g) for g in date.groups())).isoformat()
    except ValueError:
        return FiscalBill(code[1], number[1], problem=f"its 开票日期 {date[0]} is not a date")
    amount = Decimal(total[1].replace(",", ""))
    if amount <= 0 or amount >= Decimal(10) ** 15:
        return FiscalBill(code[1], number[1], problem=f"its 金额合计 {total[1]} is not a bill's")
    title, payer_id = _TITLE.search(text), _PAYER_ID.search(text)
    payee, check = _PAYEE.search(text), _CHECK.search(text)
    return FiscalBill(
        code[1],
        number[1],
        kind=title[1] if title else None,
        issue_date=issued,
        payer=payer[1],
        payer_id=payer_id[1] if payer_id else None,
        payee=payee[1] if payee else "",
        total=amount,
        check_code=check[1] if check else None,
    )
