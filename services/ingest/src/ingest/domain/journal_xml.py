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

from ingest.domain.einvoice import XmlProblem, read_xml
from ingest.domain.journal import JournalVoucher, parse_amount
from ingest.domain.voucher_export import ExportError

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


def read_xml_journal(raw: bytes) -> list[JournalVoucher]:
    """Cut an XML export into vouchers; raise ExportError if the file itself cannot be read."""
    try:
        root = read_xml(raw)
    except XmlProblem as problem:
        raise ExportError([("3-1", "export", str(problem))]) from problem
    if root.tag != "VoucherExport" or root.get("format") != "aap.voucher.v1":
        raise ExportError(
            [("1-3", "export", 'root must be <VoucherExport format="aap.voucher.v1">')]
        )
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
            vouchers.append(JournalVoucher(number, (n,), None, (("1-4", number, str(error)),)))
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
        if v.get("corrects"):
            document["corrects"] = v.get("corrects", "")
        vouchers.append(
            JournalVoucher(number, (n,), json.dumps(document, ensure_ascii=False).encode())
        )
    if not vouchers:
        raise ExportError([("2-7", "export", "the export holds no <Voucher>")])
    return vouchers
