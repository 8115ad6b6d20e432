"""Fully digital e-invoices (数电票): the signed XML original, parsed safely into typed fields.

Parsing goes through defusedxml: DTDs, entities and external references are refused, so an
entity bomb or an XXE attempt is reported as such and never expanded.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

MAX_XML_BYTES = 2 * 1024 * 1024
ROUNDING = Decimal("0.01")


class XmlProblem(Exception):
    """The XML cannot be taken; the message says why."""


@dataclass(frozen=True)
class InvoiceLine:
    item_name: str
    amount: Decimal
    tax_rate: Decimal
    tax: Decimal


@dataclass(frozen=True)
class EInvoice:
    invoice_number: str
    issue_date: str  # YYYY-MM-DD
    seller_tax_id: str
    seller_name: str
    buyer_tax_id: str
    buyer_name: str
    amount: Decimal  # 合计金额 (without tax)
    tax: Decimal  # 合计税额
    total: Decimal  # 价税合计
    lines: tuple[InvoiceLine, ...]
    signed: bool  # a Signature / SignatureValue element is present

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
        if self.amount + self.tax != self.total:
            problems.append(f"amount {self.amount} + tax {self.tax} ≠ total {self.total}")
        return problems


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


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


def _money(root: ET.Element, path: str) -> Decimal:
    value = _text(root, path)
    try:
        return Decimal(value)
    except InvalidOperation as error:
        raise XmlProblem(f"{path} is not an amount: {value!r}") from error


# The encoding an XML declaration names, if it names one.
_DECLARED_ENCODING = re.compile(
    rb"""^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']"""
)
# Files declared in the older national encodings often hold characters only GB18030 has.
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "cp936"}


def _as_utf8(data: bytes) -> bytes:
    """The document re-encoded as UTF-8 when it declares another encoding: the XML parser
    (expat) reads no multi-byte encoding but UTF-8 and UTF-16, and Chinese ERPs write GBK."""
    declared = _DECLARED_ENCODING.match(data)
    if declared is None:
        return data
    name = declared.group(1).decode("ascii").lower()
    try:
        codec = codecs.lookup(name).name
    except LookupError as error:
        raise XmlProblem(f"XML declares an unknown encoding {name!r}") from error
    if codec in {"utf-8", "utf-16"}:
        return data
    if not data[: declared.end()].isascii():
        raise XmlProblem(f"XML starts with a UTF-8 byte-order mark but declares {name!r}")
    try:
        text = data.decode("gb18030" if codec.replace("_", "") in _GB_FAMILY else codec)
    except UnicodeDecodeError as error:
        raise XmlProblem(f"XML is not valid {name}: {error}") from error
    start, end = declared.span(1)  # the declaration is ASCII: byte and character offsets agree
    return (text[:start] + "UTF-8" + text[end:]).encode()


def read_xml(data: bytes) -> ET.Element:
    """Parse any XML attachment safely, or raise XmlProblem naming the reason."""
    if len(data) > MAX_XML_BYTES:
        raise XmlProblem(f"XML of {len(data)} bytes is over the {MAX_XML_BYTES} limit")
    try:
        root: ET.Element = fromstring(_as_utf8(data), forbid_dtd=True)
    except DefusedXmlException as error:
        raise XmlProblem(
            f"XML refused: {type(error).__name__} (DTDs and entities are not allowed)"
        ) from error
    except ET.ParseError as error:
        raise XmlProblem(f"malformed XML: {error}") from error
    except ValueError as error:  # what expat refuses before parsing (an encoding, say)
        raise XmlProblem(f"XML cannot be read: {error}") from error
    return root


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
            amount=_money(item, "Amount"),
            tax_rate=_money(item, "TaxRate"),
            tax=_money(item, "ComTaxAm"),
        )
        for item in items
    )
    signed = any(local_name(e.tag) in {"Signature", "SignatureValue"} for e in root.iter())
    return EInvoice(
        invoice_number=number,
        issue_date=_text(root, "TaxSupervisionInfo/IssueTime")[:10],
        seller_tax_id=_text(root, "EInvoiceData/SellerInformation/SellerIdNum"),
        seller_name=_text(root, "EInvoiceData/SellerInformation/SellerName"),
        buyer_tax_id=_text(root, "EInvoiceData/BuyerInformation/BuyerIdNum"),
        buyer_name=_text(root, "EInvoiceData/BuyerInformation/BuyerName"),
        amount=_money(root, "EInvoiceData/BasicInformation/TotalAmWithoutTax"),
        tax=_money(root, "EInvoiceData/BasicInformation/TotalTaxAm"),
        total=_money(root, "EInvoiceData/BasicInformation/TotalTax-includedAmount"),
        lines=lines,
        signed=signed,
    )
