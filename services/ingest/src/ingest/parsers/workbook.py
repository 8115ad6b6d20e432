"""Excel workbooks (.xlsx) kept as a material's files (a ledger or a report exported to Excel):
whether one opens. Opened as the journal reader opens one (``open_workbook``: within zip limits,
so a spreadsheet bomb is refused before it is inflated; parsed with defusedxml); sheets are not
read here."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.parsers.journal_xlsx import open_workbook


@dataclass(frozen=True)
class WorkbookRead:
    problem: str | None  # why it cannot be read; None if it can
    sheets: int = 0


def read_workbook(data: bytes) -> WorkbookRead:
    try:
        book = open_workbook(data)
    except Exception as error:  # a bomb's PackageError, or any of openpyxl's for a broken file
        return WorkbookRead(f"not a readable Excel workbook: {error}")
    sheets = len(book.worksheets)
    book.close()
    if sheets == 0:
        return WorkbookRead("the workbook has no sheets")
    return WorkbookRead(None, sheets)
