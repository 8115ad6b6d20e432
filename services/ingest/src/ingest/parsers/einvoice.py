"""Fully digital e-invoices (数电票): the signed XML original, read into typed fields.

The shape is the 财政部 电子凭证会计数据标准 (试行) one, as published samples of real invoices show
it: ``EInvoice`` with ``Header`` (``InherentLabel/InIssuType``: Y a blue invoice, N a red one),
``EInvoiceData`` (the parties, ``BasicInformation`` with the totals, one
``IssuItemInformation`` per line, ``SpecificInformation/RedEInvoice`` naming what a red invoice
offsets), ``TaxSupervisionInfo`` (``InvoiceNumber``, ``IssueTime``, the tax bureau) and
``TaxBureauSignature``: the bureau's detached SM2 signature (``SignatureAlgorithm``
1.2.156.10197.1.501, ``SignatureFormat`` DETACH) over the parts its ``Reference`` lists, with no
key in the file. It is kept as fixity information; its canonicalisation and key are not
published, so it is not verified here and the invoice's authenticity rests on 查验.

The XML itself is parsed by ``ingest.parsers.xml`` (safely: no DTDs, entities or external
references).
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Literal

from ingest.parsers.xml import XmlProblem, local_name

ROUNDING = Decimal("0.01")


@dataclass(frozen=True)
class InvoiceLine:
    item_name: str
    amount: Decimal
    tax_rate: Decimal
    tax: Decimal


@dataclass(frozen=True)
class BureauSignature:
    """A 数电票's ``TaxBureauSignature``, as written."""

    bureau: str  # TaxSupervisionInfo/TaxBureauName: who signed
    algorithm: str  # e.g. 1.2.156.10197.1.501 (SM2 with SM3)
    format: str  # e.g. DETACH
    time: str  # SignatureTime, as written (Beijing time, no zone)
    reference: str  # what it covers
    value_sha256: str  # the digest of SignatureValue: which signature this is


@dataclass(frozen=True)
class EInvoice:
    invoice_number: str
    issue_date: str  # YYYY-MM-DD
    seller_tax_id: str
    seller_name: str
    buyer_tax_id: str
    buyer_name: str
    amount: Decimal | None  # 合计金额 (without tax); None where a printout does not show it
    tax: Decimal | None  # 合计税额, likewise
    total: Decimal  # 价税合计
    lines: tuple[InvoiceLine, ...]
    signed: bool  # a Signature / SignatureValue element is present
    invoice_code: str | None = None  # an older e-invoice's 发票代码
    check_code: str | None = None  # …and its 校验码 (20 digits): 查验 of a 普通发票 asks its last 6
    # Where its fields were read: a printout's text or an OFD's data is unauthenticated.
    source: Literal["xml", "printout_text", "ofd_data"] = "xml"
    bureau_signature: BureauSignature | None = None
    kind: str | None = None  # 票种 as its labels name it: 电子发票（普通发票）, …（铁路电子客票）
    red: bool = False  # a 红字 invoice: negative amounts, offsetting ``offsets``
    offsets: str | None = None  # the blue invoice a red one offsets, where the XML names it

    def arithmetic_problems(self) -> list[str]:
        """Tax = amount × rate per line (within rounding), and the totals add up."""
        problems = []
        for n, line in enumerate(self.lines, 1):
            expected = (line.amount * line.tax_rate).quantize(ROUNDING)
            if abs(expected - line.tax) > ROUNDING:
                problems.append(
                    f"line {n} ({line.item_name}): tax {line.tax} ≠ {line.amount} × {line.tax_rate}"
                )
        if self.lines and sum(ln.amount for ln in self.lines) != self.amount:
            problems.append(f"line amounts do not add up to the invoice amount {self.amount}")
        if self.lines and sum(ln.tax for ln in self.lines) != self.tax:
            problems.append(f"line taxes do not add up to the invoice tax {self.tax}")
        amount, tax = self.amount, self.tax
        if amount is not None and tax is not None and amount + tax != self.total:
            problems.append(f"amount {self.amount} + tax {self.tax} ≠ total {self.total}")
        return problems


def _find(root: ET.Element, path: str) -> ET.Element | None:
    """Find by local names (the XML may or may not use a namespace)."""
    node: ET.Element | None = root
    for part in path.split("/"):
        node = (
            next((c for c in node if local_name(c.tag) == part), None) if node is not None else None
        )
    return node


def _text(root: ET.Element, path: str) -> str:
    node = _find(root, path)
    if node is None or not (node.text or "").strip():
        raise XmlProblem(f"required element {path} is missing or empty")
    return (node.text or "").strip()


def _decimal(root: ET.Element, path: str, places: int = 2) -> Decimal:
    """An amount (two decimal places at most: 分) or a rate, exact; XmlProblem if it is not."""
    value = _text(root, path)
    try:
        number = Decimal(value)
    except InvalidOperation as error:
        raise XmlProblem(f"{path} is not an amount: {value!r}") from error
    exponent = number.as_tuple().exponent
    if not number.is_finite() or not isinstance(exponent, int) or -exponent > places:
        raise XmlProblem(f"{path} is not an amount of at most {places} decimal places: {value!r}")
    if abs(number) >= Decimal(10) ** 15:
        raise XmlProblem(f"{path} is beyond any invoice: {value!r}")
    return number


def _date(root: ET.Element, path: str) -> str:
    value = _text(root, path)[:10]
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as error:
        raise XmlProblem(f"{path} is not a date: {value!r}") from error


def is_einvoice(root: ET.Element) -> bool:
    return local_name(root.tag) == "EInvoice"


def parse_einvoice(root: ET.Element) -> EInvoice:
    """Typed fields of a 数电票 XML (root ``EInvoice``)."""
    if not is_einvoice(root):
        raise XmlProblem(f"root element is {local_name(root.tag)}, not EInvoice")
    number = _text(root, "TaxSupervisionInfo/InvoiceNumber")
    if not (number.isdigit() and len(number) == 20):
        raise XmlProblem(f"invoice number {number!r} is not 20 digits")
    data = _find(root, "EInvoiceData")
    items = (
        [c for c in data if local_name(c.tag) == "IssuItemInformation"] if data is not None else []
    )
    lines = tuple(
        InvoiceLine(
            item_name=_text(item, "ItemName"),
            amount=_decimal(item, "Amount"),
            tax_rate=_decimal(item, "TaxRate", places=6),
            tax=_decimal(item, "ComTaxAm"),
        )
        for item in items
    )
    signed = any(local_name(e.tag) in {"Signature", "SignatureValue"} for e in root.iter())
    red = (_optional(root, "Header/InherentLabel/InIssuType/LabelCode") or "Y").upper() == "N"
    return EInvoice(
        invoice_number=number,
        issue_date=_date(root, "TaxSupervisionInfo/IssueTime"),
        seller_tax_id=_text(root, "EInvoiceData/SellerInformation/SellerIdNum"),
        seller_name=_text(root, "EInvoiceData/SellerInformation/SellerName"),
        buyer_tax_id=_text(root, "EInvoiceData/BuyerInformation/BuyerIdNum"),
        buyer_name=_text(root, "EInvoiceData/BuyerInformation/BuyerName"),
        amount=_decimal(root, "EInvoiceData/BasicInformation/TotalAmWithoutTax"),
        tax=_decimal(root, "EInvoiceData/BasicInformation/TotalTaxAm"),
        total=_decimal(root, "EInvoiceData/BasicInformation/TotalTax-includedAmount"),
        lines=lines,
        signed=signed,
        bureau_signature=_bureau_signature(root),
        kind=_kind(root),
        red=red,
        offsets=_offsets(root) if red else None,
    )


def _optional(root: ET.Element, path: str) -> str | None:
    node = _find(root, path)
    return (node.text or "").strip() or None if node is not None else None


def _kind(root: ET.Element) -> str | None:
    """票种, as a printout titles it from the labels: EInvoiceType (电子发票) and
    GeneralOrSpecialVAT (普通发票, 增值税专用发票, 铁路电子客票, 航空运输电子客票行程单…)."""
    labels = "Header/InherentLabel"
    kind = _optional(root, f"{labels}/EInvoiceType/LabelName")
    sort = _optional(root, f"{labels}/GeneralOrSpecialVAT/LabelName")
    if kind and sort:
        return f"{kind}（{sort}）"
    return kind or sort


def _bureau_signature(root: ET.Element) -> BureauSignature | None:
    signature = _find(root, "TaxBureauSignature")
    value = _optional(root, "TaxBureauSignature/SignatureValue")
    if signature is None or value is None:
        return None
    reference = next((c for c in signature if local_name(c.tag) == "Reference"), None)
    return BureauSignature(
        bureau=_optional(root, "TaxSupervisionInfo/TaxBureauName") or "",
        algorithm=_optional(root, "TaxBureauSignature/SignatureAlgorithm") or "",
        format=_optional(root, "TaxBureauSignature/SignatureFormat") or "",
        time=_optional(root, "TaxBureauSignature/SignatureTime") or "",
        reference=reference.get("URI", "") if reference is not None else "",
        value_sha256=hashlib.sha256("".join(value.split()).encode()).hexdigest(),
    )


# Where a red invoice names the blue one it offsets: the published model of the standard's
# XML names its RedEInvoice's first field OriginalInvoiceCode; a 数电票's is its 20-digit number.
# Not confirmed against the standard's own text, so either name is read.
ORIGINAL_INVOICE = ("OriginalInvoiceNumber", "OriginalInvoiceCode")


def _offsets(root: ET.Element) -> str | None:
    for name in ORIGINAL_INVOICE:
        value = _optional(root, f"EInvoiceData/SpecificInformation/RedEInvoice/{name}")
        if value and value.isdigit() and len(value) in (8, 20):
            return value
    return None
