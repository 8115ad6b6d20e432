"""Registers as spreadsheets and CSV; what the platform writes is inert: user text never becomes a
formula.

A summary, a counterparty or a note is typed by a user or an ERP; written into a register as is,
``=HYPERLINK(…)`` or ``@SUM(…)`` would run when an archivist opens the file (CSV/formula
injection). Every sheet and CSV the platform writes goes through these two helpers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

# What spreadsheet programs take as the start of a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Characters XML 1.0 cannot carry, and the carriage return, which XML reads back as a line feed.
# A workbook holds them escaped as _xHHHH_ (ECMA-376, ST_Xstring), which spreadsheet programs show
# as the character itself: the text is kept as typed, nothing dropped.
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")

Cell = str | int | Decimal | None


# Text that reads like such an escape keeps its underscore escaped: it reads back as typed.
_LOOKS_ESCAPED = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def _xml_safe(text: str) -> str:
    kept = _LOOKS_ESCAPED.sub(r"_x005F_\1", text)
    return _NOT_IN_XML.sub(lambda m: f"_x{ord(m.group()):04X}_", kept)


def append_row(ws: Worksheet, values: Sequence[Cell]) -> None:
    """Append a row: text as typed string cells whatever it starts with, numbers as numbers."""
    ws.append([_xml_safe(v) if isinstance(v, str) else v for v in values])
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"  # openpyxl made "=…" a formula; a string it stays


def csv_text(text: str) -> str:
    """A text field for CSV, where no cell type exists: prefixed with ``'`` where a spreadsheet
    program would take it for a formula (OWASP). Never for amounts, which stay numbers."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


@dataclass(frozen=True)
class Register:
    title: str  # the sheet's name, e.g. 保管清册
    heading: str
    columns: Sequence[tuple[str, int]]  # name, width in characters
    rows: list[list[Cell]]
    footer: list[list[Cell]] = field(default_factory=list)


def as_xlsx(register: Register, at: datetime | None = None) -> bytes:
    """``at``: the workbook's created and modified time (the time of writing otherwise)."""
    wb = Workbook()
    if at is not None:
        naive = at.astimezone(UTC).replace(tzinfo=None)  # the properties are written in UTC
        wb.properties.created = wb.properties.modified = naive
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
