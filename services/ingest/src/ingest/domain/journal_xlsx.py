"""Voucher journals saved as Excel workbooks (.xlsx): the first sheet, read as a table.

A workbook is a zip, so it is opened within limits first; its XML is parsed by openpyxl, which
uses defusedxml when installed (it is), so entities and external references are refused.
ERP exports often put a title above the header: the header is the first of the top rows that
names every column the profile needs.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal

from openpyxl import load_workbook

from ingest.domain.package import PackageError, PackageLimits, open_zip
from ingest.domain.voucher_export import ExportError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_LIMITS = PackageLimits(
    max_entries=1_000,
    max_entry_bytes=200 * 1024 * 1024,
    max_total_bytes=400 * 1024 * 1024,
    max_ratio=200,  # sheet XML compresses well; a bomb goes far beyond this
)
HEADER_SEARCH_ROWS = 10

Rows = Iterator[tuple[int, dict[str, str]]]  # (row number as Excel shows it, column → text)


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


def xlsx_table(raw: bytes, wanted: Sequence[str]) -> tuple[list[str], Rows]:
    """(header, rows) of the workbook's first sheet; ExportError if it cannot be read."""
    try:
        open_zip(raw, XLSX_LIMITS)
        sheet = load_workbook(io.BytesIO(raw), read_only=True, data_only=True).worksheets[0]
        top = [
            [cell_text(v) for v in row]
            for row in sheet.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True)
        ]
    except (PackageError, Exception) as error:  # openpyxl raises many types for a broken file
        raise ExportError(
            [("3-4", "journal", f"not a readable Excel workbook: {error}")]
        ) from error
    at = next((n for n, row in enumerate(top) if set(wanted) <= set(row)), None)
    if at is None:
        first = next((row for row in top if any(row)), [])
        return first, iter(())  # the caller names the missing columns
    header = top[at]

    def rows() -> Rows:
        for number, row in enumerate(
            sheet.iter_rows(min_row=at + 2, values_only=True), start=at + 2
        ):
            texts = [cell_text(v) for v in row]
            if any(texts):
                yield number, dict(zip(header, texts, strict=False))

    return header, rows()
