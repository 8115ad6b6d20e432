"""The registers archive departments print and sign, as Excel workbooks: the custody register
(会计档案保管清册) and the handover list (会计档案移交清册)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from archive.domain.volumes import Volume

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _sheet(wb: Workbook, title: str, heading: str, columns: Sequence[tuple[str, int]]) -> Worksheet:
    ws = wb.active
    assert ws is not None
    ws.title = title
    ws.append([heading])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append([name for name, _ in columns])
    for i, (_, width) in enumerate(columns, 1):
        ws.column_dimensions[chr(64 + i)].width = width
        ws.cell(row=2, column=i).font = Font(bold=True)
    return ws


def _bytes(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def custody_register(
    fonds_code: str, fiscal_year: int, volumes: Sequence[Volume], holds: set[str]
) -> bytes:
    wb = Workbook()
    ws = _sheet(
        wb,
        "保管清册",
        f"会计档案保管清册  全宗号 {fonds_code}  {fiscal_year}年度",
        [
            ("序号", 6),
            ("档号", 26),
            ("卷号", 6),
            ("会计期间", 10),
            ("凭证号", 10),
            ("摘要", 36),
            ("金额", 14),
            ("保管期限", 8),
            ("保管期限截止", 14),
            ("附件张数", 8),
            ("备注", 24),
        ],
    )
    n = 0
    for volume in volumes:
        for r in volume.records:
            n += 1
            v = r.voucher
            ws.append(
                [
                    n,
                    r.archive_code,
                    volume.number,
                    f"{r.fiscal_year}-{r.period:02d}" if r.period else "",
                    v.voucher_no if v else "",
                    v.summary if v else "",
                    str(v.total.amount) if v else "",
                    "永久" if r.retention.permanent else f"{r.retention.years}年",
                    r.retention_until.isoformat() if r.retention_until else "永久",
                    v.declared_attachment_count if v else "",
                    "法律冻结（未结清事项）" if str(r.record_id) in holds else "",
                ]
            )
    return _bytes(wb)


def handover_list(fonds_code: str, fiscal_year: int, volumes: Sequence[Volume]) -> bytes:
    wb = Workbook()
    ws = _sheet(
        wb,
        "移交清册",
        f"会计档案移交清册  全宗号 {fonds_code}  {fiscal_year}年度",
        [
            ("卷号", 6),
            ("会计期间", 10),
            ("起止日期", 24),
            ("件数", 6),
            ("档号起止", 52),
            ("保管期限", 8),
            ("备注", 16),
        ],
    )
    for v in volumes:
        first, last = v.date_range
        ws.append(
            [
                v.number,
                f"{v.fiscal_year}-{v.period:02d}" if v.period else str(v.fiscal_year),
                f"{first} 至 {last}",
                v.item_count,
                f"{v.code_range[0]} — {v.code_range[1]}",
                v.retention_code,
                "",
            ]
        )
    ws.append([])
    ws.append([f"共 {len(volumes)} 卷 {sum(v.item_count for v in volumes)} 件"])
    ws.append(["移交人（签字）：", "", "接收人（签字）：", "", "监交人（签字）：", "", "日期："])
    return _bytes(wb)
