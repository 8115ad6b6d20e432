"""The registers archive departments print and sign: the custody register (会计档案保管清册) and
the handover list (会计档案移交清册), as Excel workbooks or CSV.

Each register is built once as rows; the two renderings write user text inertly (never as a
formula: ``servicekit.exports``) and amounts as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from archive.domain.volumes import Volume
from servicekit.exports import Cell, append_row, csv_text

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


@dataclass(frozen=True)
class Register:
    title: str  # the sheet's name, e.g. 保管清册
    heading: str
    columns: Sequence[tuple[str, int]]  # name, width in characters
    rows: list[list[Cell]]
    footer: list[list[Cell]] = field(default_factory=list)


def custody_register(
    fonds_code: str, fiscal_year: int, volumes: Sequence[Volume], holds: set[str]
) -> Register:
    rows: list[list[Cell]] = []
    for volume in volumes:
        for r in volume.records:
            v = r.voucher
            rows.append(
                [
                    len(rows) + 1,
                    r.archive_code,
                    volume.number,
                    f"{r.fiscal_year}-{r.period:02d}" if r.period else "",
                    v.voucher_no if v else "",
                    v.summary if v else "",
                    v.total.amount if v else None,
                    "永久" if r.retention.permanent else f"{r.retention.years}年",
                    r.retention_until.isoformat() if r.retention_until else "永久",
                    v.declared_attachment_count if v else None,
                    "法律冻结（未结清事项）" if str(r.record_id) in holds else "",
                ]
            )
    return Register(
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
        rows,
    )


def handover_list(fonds_code: str, fiscal_year: int, volumes: Sequence[Volume]) -> Register:
    rows: list[list[Cell]] = []
    for v in volumes:
        first, last = v.date_range
        rows.append(
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
    footer: list[list[Cell]] = [
        [],
        [f"共 {len(volumes)} 卷 {sum(v.item_count for v in volumes)} 件"],
        ["移交人（签字）：", "", "接收人（签字）：", "", "监交人（签字）：", "", "日期："],
    ]
    return Register(
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
        rows,
        footer,
    )


def as_xlsx(register: Register) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = register.title
    append_row(ws, [register.heading])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(register.columns))
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    append_row(ws, [name for name, _ in register.columns])
    for i, (_, width) in enumerate(register.columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
        ws.cell(row=2, column=i).font = Font(bold=True)
    for row in register.rows + register.footer:
        append_row(ws, row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def as_csv(register: Register) -> bytes:
    """UTF-8 with a byte-order mark, which spreadsheet programs need to read Chinese text."""
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow([csv_text(register.heading)])
    out.writerow([name for name, _ in register.columns])
    for row in register.rows + register.footer:
        out.writerow(
            [csv_text(v) if isinstance(v, str) else "" if v is None else str(v) for v in row]
        )
    return buf.getvalue().encode("utf-8-sig")
