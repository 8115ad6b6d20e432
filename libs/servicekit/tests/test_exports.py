"""What an archivist opening a register must be able to rely on: user text is text."""

import csv
import io
from decimal import Decimal

from openpyxl import Workbook, load_workbook
from openpyxl.utils.escape import unescape

from servicekit.exports import FORMULA_STARTS, Cell, append_row, csv_text

HOSTILE = [
    '=HYPERLINK("http://evil.example","点我报销")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "报销差旅费",
]


def reopened(rows: list[list[Cell]]) -> list[list[tuple[object, str]]]:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        append_row(ws, row)
    buf = io.BytesIO()
    wb.save(buf)
    sheet = load_workbook(io.BytesIO(buf.getvalue())).active
    assert sheet is not None
    return [[(c.value, c.data_type) for c in row] for row in sheet.iter_rows()]


def test_text_that_looks_like_a_formula_stays_a_typed_string_unchanged() -> None:
    cells = reopened([[text, Decimal("-1280.50"), 3] for text in HOSTILE])
    for text, row in zip(HOSTILE, cells, strict=True):
        value, kind = row[0]
        assert kind == "s" and unescape(str(value)) == text  # as a spreadsheet program shows it
        assert row[1] == (-1280.5, "n") and row[2] == (3, "n")  # amounts stay numbers


def test_characters_xml_cannot_hold_are_escaped_not_dropped() -> None:
    typed = "摘要\x01附件\x1f _x0041_"  # the last part reads like an escape, and is not one
    [[(value, kind)]] = reopened([[typed]])
    assert kind == "s" and value == "摘要_x0001_附件_x001F_ _x005F_x0041_"
    assert unescape(str(value)) == typed  # what a spreadsheet program shows


def test_csv_text_fields_that_a_spreadsheet_would_run_are_prefixed() -> None:
    assert [csv_text(t) for t in HOSTILE] == [
        *("'" + t for t in HOSTILE[:-1]),
        "报销差旅费",
    ]
    assert all(csv_text("x" + s) == "x" + s for s in FORMULA_STARTS)  # only at the start
    buf = io.StringIO()
    csv.writer(buf).writerow([csv_text(HOSTILE[0]), "-1280.50"])
    assert next(csv.reader(io.StringIO(buf.getvalue()))) == ["'" + HOSTILE[0], "-1280.50"]
