"""ERP voucher journals (CSV and Excel) cut into vouchers by column profiles."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from ingest.parsers.findings import ExportError
from ingest.parsers.journal import JournalProfile, load_profiles, read_journal
from ingest.parsers.journal_xml import read_xml_journal
from ingest.parsers.voucher import parse_voucher_export

ROOT = Path(__file__).resolve().parents[3]
PROFILES = load_profiles(ROOT / "services" / "ingest" / "src" / "ingest" / "profiles")
YONYOU = (ROOT / "samples" / "journals" / "yonyou-u8-2025-04.csv").read_bytes()  # GB18030
KINGDEE = (ROOT / "samples" / "journals" / "kingdee-k3-2025-04.csv").read_bytes()  # UTF-8 with BOM


def cut(raw: bytes, profile: str) -> list:  # type: ignore[type-arg]
    return read_journal(
        raw, PROFILES[profile], fonds_code="Q001", company_name="上海澄明科技有限公司"
    )


def test_two_erp_styles_are_profiles_not_code() -> None:
    assert {"yonyou-u8", "kingdee-k3"} <= set(PROFILES)
    yonyou = cut(YONYOU, "yonyou-u8")
    assert [(v.voucher_no, v.rows) for v in yonyou] == [
        ("记-0001", (2, 3)),
        ("记-0002", (4, 5)),
        ("记-0003", (6, 7)),
    ]
    salaries = parse_voucher_export(yonyou[0].document)
    assert salaries.summary == "计提3月工资" and salaries.total_debit == Decimal("86500.00")
    assert (salaries.fiscal_year, salaries.period, salaries.voucher_date) == (2025, 4, "2025-04-02")
    [depreciation] = cut(KINGDEE, "kingdee-k3")
    v = parse_voucher_export(depreciation.document)
    assert v.voucher_no == "记-7" and v.entries[0].account_code == "6602.05"
    assert v.approver == "王强"


def test_a_journal_in_the_wrong_profile_names_the_missing_columns() -> None:
    with pytest.raises(ExportError, match="columns missing for profile kingdee-k3"):
        cut(YONYOU, "kingdee-k3")


def test_rows_of_one_voucher_must_agree_and_amounts_must_read() -> None:
    text = YONYOU.decode("gb18030")
    text = text.replace(
        "2025-04-08,记,2,支付杭州禾木贸易有限公司货款,1002",
        "2025-04-09,记,2,支付杭州禾木贸易有限公司货款,1002",
    )
    text = text.replace('"20,000.00",,张伟', "二万元,,张伟")
    vouchers = {v.voucher_no: v for v in cut(text.encode("gb18030"), "yonyou-u8")}
    assert vouchers["记-0001"].document is not None
    assert vouchers["记-0002"].document is None
    assert "disagree on voucher_date" in vouchers["记-0002"].problems[0].message
    assert "'二万元' is not an amount" in vouchers["记-0003"].problems[0].message


def test_a_profile_is_validated_configuration() -> None:
    with pytest.raises(ValueError, match="extra"):
        JournalProfile.model_validate(
            {"name": "x", "columns": {}, "voucher_no": "{a}", "surprise": 1}
        )


def test_the_xml_export_is_cut_into_vouchers_and_read_safely() -> None:
    raw = (ROOT / "samples" / "journals" / "erp-export-2025-05.xml").read_bytes()
    tax, rent = read_xml_journal(raw)
    v = parse_voucher_export(tax.document)  # type: ignore[arg-type]
    assert (v.voucher_no, v.period, v.summary) == ("记-0001", 5, "缴纳4月增值税")
    assert v.total_debit == Decimal("12860.35")  # "12,860.35" as the ERP wrote it
    assert parse_voucher_export(rent.document).entries[0].account_name == "管理费用—租赁费"  # type: ignore[arg-type]
    with pytest.raises(ExportError, match="DTDs and entities are not allowed"):
        read_xml_journal(
            b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><VoucherExport>&e;</VoucherExport>'
        )
    with pytest.raises(ExportError, match="root must be"):
        read_xml_journal(b"<Vouchers/>")


def test_a_voucher_of_an_xml_export_says_what_it_corrects_and_how() -> None:
    text = (ROOT / "samples" / "journals" / "erp-export-2025-05.xml").read_text()
    named = 'voucher_no="记-0002" corrects="Q001-2025-D30-PZ-000002" correction_kind="调整"'
    tax, rent = read_xml_journal(text.replace('voucher_no="记-0002"', named).encode())
    corrects = parse_voucher_export(rent.document).corrects  # type: ignore[arg-type]
    assert corrects is not None and (corrects.kind, corrects.archive_code) == (
        "调整",
        "Q001-2025-D30-PZ-000002",
    )
    assert parse_voucher_export(tax.document).corrects is None  # type: ignore[arg-type]
    unsaid = text.replace('voucher_no="记-0002"', 'voucher_no="记-0002" corrects="Q001-X"')
    [_, without_kind] = read_xml_journal(unsaid.encode())
    with pytest.raises(ExportError, match="kind"):
        parse_voucher_export(without_kind.document)  # type: ignore[arg-type]


def test_an_xml_export_in_gbk_or_gb18030_reads_the_same_as_in_utf8() -> None:
    utf8 = (ROOT / "samples" / "journals" / "erp-export-2025-05.xml").read_bytes()
    text = utf8.decode()
    for name in ("GB18030", "GBK", "gb2312"):
        raw = text.replace('encoding="UTF-8"', f'encoding="{name}"').encode("gb18030")
        assert [v.document for v in read_xml_journal(raw)] == [
            v.document for v in read_xml_journal(utf8)
        ]
    bad = text.replace('encoding="UTF-8"', 'encoding="GBK"').encode("gb18030") + b"\x81"
    with pytest.raises(ExportError, match="not valid gbk"):
        read_xml_journal(bad)
    with pytest.raises(ExportError, match="unknown encoding 'x-nonsense'"):
        read_xml_journal(text.replace('encoding="UTF-8"', 'encoding="x-nonsense"').encode())


def workbook_of(csv_text: str) -> bytes:
    """The journal as an ERP saves it to Excel: a title row, date cells, number cells."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["凭证查询 2025年4月"])
    rows = list(csv.reader(io.StringIO(csv_text)))
    ws.append(rows[0])
    for row in rows[1:]:
        cells: list[object] = list(row)
        cells[0] = date.fromisoformat(row[0])
        cells[2] = int(row[2])
        cells[6] = float(row[6].replace(",", "")) if row[6] else None
        cells[7] = float(row[7].replace(",", "")) if row[7] else None
        ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_an_excel_journal_gives_the_same_vouchers_as_its_csv() -> None:
    from_csv = cut(YONYOU, "yonyou-u8")
    from_xlsx = cut(workbook_of(YONYOU.decode("gb18030")), "yonyou-u8")
    assert [v.voucher_no for v in from_xlsx] == [v.voucher_no for v in from_csv]
    assert [v.rows for v in from_xlsx] == [(3, 4), (5, 6), (7, 8)]  # as Excel numbers them
    for a, b in zip(from_csv, from_xlsx, strict=True):
        assert a.document is not None and b.document is not None
        assert parse_voucher_export(b.document) == parse_voucher_export(a.document)


def test_a_broken_or_bombed_workbook_is_refused_with_its_reason() -> None:
    with pytest.raises(ExportError, match="not a readable Excel workbook: not a zip"):
        cut(b"PK\x03\x04 not really a workbook", "yonyou-u8")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"<" + b"a" * 50_000_000 + b"/>")
    with pytest.raises(ExportError, match=r"not a readable Excel workbook: .* expands"):
        cut(bomb.getvalue(), "yonyou-u8")
