"""The XML form of a voucher export (``aap.voucher.v1``): several vouchers in one file.

    <VoucherExport format="aap.voucher.v1" fonds_code="Q001" company_name="上海澄明科技有限公司">
      <Voucher voucher_no="记-0001" voucher_date="2025-03-05" preparer="张伟" reviewer="李娜"
               approver="王强" attachment_count="1">
        <Summary>报销差旅费</Summary>
        <Entry account_code="6602" account_name="管理费用" debit="1280.00" credit="0">
          <Summary>报销差旅费</Summary>
        </Entry>
        …
      </Voucher>
    </VoucherExport>

Each voucher becomes the same canonical JSON as a JSON export, and is judged the same way.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from contracts.checks import CHECK_1_3, CHECK_1_4, CHECK_2_7, CHECK_3_1
from ingest.parsers.findings import ExportError, Finding
from ingest.parsers.journal import JournalVoucher, parse_amount
from ingest.parsers.tables import DEFAULT_LIMITS, JournalLimits, OverLimit
from ingest.parsers.xml import XmlProblem, read_xml

VOUCHER_ATTRIBUTES = (
    "voucher_no",
    "voucher_date",
    "preparer",
    "reviewer",
    "approver",
    "attachment_count",
)


def _summary(node: ET.Element) -> str:
    found = node.find("Summary")
    return (found.text or "").strip() if found is not None else ""


def read_xml_journal(raw: bytes, limits: JournalLimits = DEFAULT_LIMITS) -> list[JournalVoucher]:
    """Cut an XML export into vouchers; ExportError if the file itself cannot be read,
    OverLimit if it holds more vouchers and entries than the row limit."""
    try:
        root = read_xml(raw, max_bytes=None)  # its size was bounded when it was spooled
    except XmlProblem as problem:
        raise ExportError([Finding(CHECK_3_1, "export", str(problem))]) from problem
    if root.tag != "VoucherExport" or root.get("format") != "aap.voucher.v1":
        raise ExportError(
            [Finding(CHECK_1_3, "export", 'root must be <VoucherExport format="aap.voucher.v1">')]
        )
    lines = sum(1 for e in root.iter() if e.tag in {"Voucher", "Entry"})
    if lines > limits.max_rows:
        raise OverLimit(f"{lines} vouchers and entries, more than the limit of {limits.max_rows}")
    vouchers = []
    for n, v in enumerate(root.iter("Voucher"), 1):
        number = v.get("voucher_no") or f"#{n}"
        date = v.get("voucher_date", "")
        try:
            entries = [
                {
                    "summary": _summary(e) or _summary(v),
                    "account_code": e.get("account_code", ""),
                    "account_name": e.get("account_name", ""),
                    "debit": str(parse_amount(e.get("debit") or "0")),
                    "credit": str(parse_amount(e.get("credit") or "0")),
                }
                for e in v.iter("Entry")
            ]
        except ValueError as error:
            finding = Finding(CHECK_1_4, number, str(error))
            vouchers.append(JournalVoucher(number, (n,), None, (finding,)))
            continue
        document = {
            "format": "aap.voucher.v1",
            "fonds_code": root.get("fonds_code", ""),
            "company_name": root.get("company_name", ""),
            "fiscal_year": int(date[:4]) if date[:4].isdigit() else 0,
            "period": int(date[5:7]) if date[5:7].isdigit() else 0,
            **{a: v.get(a, "") for a in VOUCHER_ATTRIBUTES},
            "summary": _summary(v),
            "entries": entries,
        }
        if v.get("corrects") or v.get("correction_kind"):  # by 档号, and how
            kind = v.get("correction_kind", "")
            document["corrects"] = {"kind": kind, "archive_code": v.get("corrects", "")}
        vouchers.append(
            JournalVoucher(number, (n,), json.dumps(document, ensure_ascii=False).encode())
        )
    if not vouchers:
        raise ExportError([Finding(CHECK_2_7, "export", "the export holds no <Voucher>")])
    return vouchers
