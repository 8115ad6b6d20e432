"""Excel workbooks (.xlsx) kept as a material's files (a ledger or a report exported to Excel):
whether one opens. Opened within the zip limits of the journal reader (a spreadsheet bomb is
refused before it is inflated), parsed by openpyxl with defusedxml; sheets are not read here."""

from __future__ import annotations

import io
from dataclasses import dataclass

from openpyxl import load_workbook

from ingest.parsers.journal_xlsx import XLSX_LIMITS
from ingest.parsers.zips import PackageError, open_zip


@dataclass(frozen=True)
class WorkbookRead:
    problem: str | None  # why it cannot be read; None if it can
    sheets: int = 0


def read_workbook(data: bytes) -> WorkbookRead:
    try:
        open_zip(data, XLSX_LIMITS)
    except PackageError as problem:
        return WorkbookRead(f"not a readable Excel workbook: {problem}")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:
        return WorkbookRead(f"not a readable Excel workbook: {error}")
    sheets = len(book.worksheets)
    book.close()
    if sheets == 0:
        return WorkbookRead("the workbook has no sheets")
    return WorkbookRead(None, sheets)
