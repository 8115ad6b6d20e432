"""Voucher journals saved as Excel workbooks (.xlsx): the first sheet, read as a table.

A workbook is a zip, so it is opened within limits first; its XML is parsed by openpyxl, which
uses defusedxml when installed (it is), so entities and external references are refused. The
sheet is read by what it holds, never by the size it declares (``<dimension ref="A1:XFD1048576">``
costs nothing to write): rows, columns and cells are counted as they are read, against limits.
ERP exports often put a title above the header: the header is the first of the top rows that
names every column the profile needs.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from openpyxl import Workbook, load_workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from contracts.checks import CHECK_3_1
from ingest.parsers.findings import ExportError, Finding
from ingest.parsers.tables import JournalLimits, OverLimit, Rows
from ingest.parsers.zips import PackageError, PackageLimits, open_zip

XLSX_LIMITS = PackageLimits(
    max_entries=1_000,
    max_entry_bytes=200 * 1024 * 1024,
    max_total_bytes=400 * 1024 * 1024,
    max_ratio=200,  # sheet XML compresses well; a bomb goes far beyond this
)
HEADER_SEARCH_ROWS = 10


def is_xlsx(raw: bytes) -> bool:
    return raw.startswith(b"PK\x03\x04")


def cell_text(value: object) -> str:
    """A cell as the text a CSV export of it would hold; numbers never pass through float text.

    Excel keeps numbers as binary doubles; ``repr`` gives the shortest decimal that reads back as
    the same double, which is what Excel shows for amounts of up to 15 significant digits.
    """
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(Decimal(repr(value)))
    return str(value).strip()


def _unreadable(error: Exception) -> ExportError:
    return ExportError([Finding(CHECK_3_1, "journal", f"not a readable Excel workbook: {error}")])


def open_workbook(raw: bytes) -> Workbook:
    """A workbook opened within the zip limits (a bomb raises PackageError before it is
    inflated), read only; its sheets are read lazily. openpyxl raises many types for a broken
    file."""
    open_zip(raw, XLSX_LIMITS)
    return load_workbook(io.BytesIO(raw), read_only=True, data_only=True)


def _first_sheet(raw: bytes) -> ReadOnlyWorksheet:
    try:
        sheet = open_workbook(raw).worksheets[0]
    except (PackageError, Exception) as error:  # openpyxl raises many types for a broken file
        raise _unreadable(error) from error
    if not isinstance(sheet, ReadOnlyWorksheet):
        raise _unreadable(ValueError("its first sheet is not a worksheet"))
    sheet.reset_dimensions()  # what it holds, not what it declares
    return sheet


def _texts(row: Sequence[object], number: int, limits: JournalLimits) -> list[str]:
    if len(row) > limits.max_columns:
        raise OverLimit(
            f"row {number} reaches column {len(row)}, more than the limit of {limits.max_columns}"
        )
    return [cell_text(v) for v in row]


def xlsx_table(raw: bytes, wanted: Sequence[str], limits: JournalLimits) -> tuple[list[str], Rows]:
    """(header, rows) of the workbook's first sheet; ExportError if it cannot be read,
    OverLimit if a row is wider than the limit (the caller counts rows and cells)."""
    sheet = _first_sheet(raw)
    try:
        top = [
            _texts(row, n, limits)
            for n, row in enumerate(
                sheet.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True), start=1
            )
        ]
    except OverLimit:
        raise
    except Exception as error:
        raise _unreadable(error) from error
    at = next((n for n, row in enumerate(top) if set(wanted) <= set(row)), None)
    if at is None:
        first = next((row for row in top if any(row)), [])
        return first, iter(())  # the caller names the missing columns
    header = top[at]

    def rows() -> Rows:
        try:
            cells = sheet.iter_rows(min_row=at + 2, values_only=True)
            for number, row in enumerate(cells, start=at + 2):
                texts = _texts(row, number, limits)
                # Blank rows count against the row limit too: a sheet can claim a million.
                yield number, (dict(zip(header, texts, strict=False)) if any(texts) else {})
        except (OverLimit, ExportError):
            raise
        except Exception as error:
            raise _unreadable(error) from error

    return header, rows()
