"""Voucher journals (凭证序时簿) exported by ERPs: CSV, Excel (.xlsx) or the XML export.

Column names differ by ERP; a *profile* (configuration, see ``ingest/profiles/*.json``) maps them
to our fields and says how to build the voucher number. Rows are grouped into vouchers; each
voucher becomes the canonical JSON of ``aap.voucher.v1`` and is then judged like a voucher
uploaded alone. A journal over a limit (rows, columns, cells) is refused whole, naming the limit:
never cut, so no voucher after the cut can vanish.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from contracts.checks import CHECK_1_4, CHECK_1_5, CHECK_2_4, CHECK_3_1
from ingest.parsers.findings import ExportError, Finding
from ingest.parsers.journal_xlsx import is_xlsx, xlsx_table
from ingest.parsers.tables import DEFAULT_LIMITS, JournalLimits, OverLimit, Rows
from ingest.parsers.text import decode_text

VOUCHER_FIELDS = ("voucher_date", "summary", "preparer", "reviewer", "approver", "attachment_count")
ENTRY_FIELDS = ("summary", "account_code", "account_name", "debit", "credit")


class JournalProfile(BaseModel):
    """How one ERP's journal export names its columns."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str = ""
    columns: dict[str, str]  # our field → the ERP's column header
    voucher_no: str  # e.g. "{voucher_word}-{voucher_number:0>4}", over our field names
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)


def load_profiles(*folders: Path) -> dict[str, JournalProfile]:
    profiles = {}
    for folder in folders:
        for path in sorted(folder.glob("*.json")):
            profile = JournalProfile.model_validate_json(path.read_text(encoding="utf-8"))
            profiles[profile.name] = profile
    return profiles


@dataclass(frozen=True)
class JournalVoucher:
    """One voucher cut out of a journal: its canonical JSON (aap.voucher.v1), or what is wrong."""

    voucher_no: str
    rows: tuple[int, ...]  # line numbers in the journal file
    document: bytes | None
    problems: tuple[Finding, ...] = ()


def parse_amount(text: str) -> Decimal:
    cleaned = text.replace(",", "").replace("，", "").strip() or "0"
    try:
        return Decimal(cleaned)
    except InvalidOperation as error:
        raise ValueError(f"{text!r} is not an amount") from error


def _date(text: str, formats: tuple[str, ...]) -> date:
    for fmt in (*formats, "%Y-%m-%d"):  # ISO too: what a date cell of a workbook gives
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} matches none of the date formats {list(formats)}")


def _csv_table(raw: bytes, limits: JournalLimits) -> tuple[list[str], Rows]:
    reader = csv.reader(io.StringIO(decode_text(raw, "journal"), newline=""))
    try:
        header = next(reader, [])
    except csv.Error as error:
        raise ExportError([Finding(CHECK_3_1, "journal", f"not readable CSV: {error}")]) from error
    if len(header) > limits.max_columns:
        raise OverLimit(f"{len(header)} columns, more than the limit of {limits.max_columns}")

    def rows() -> Rows:
        try:
            for line, cells in enumerate(reader, start=2):
                if len(cells) > limits.max_columns:
                    raise OverLimit(
                        f"row {line} has {len(cells)} columns, "
                        f"more than the limit of {limits.max_columns}"
                    )
                yield line, dict(zip(header, cells, strict=False))
        except csv.Error as error:
            raise ExportError(
                [
                    Finding(
                        CHECK_3_1, "journal", f"not readable CSV at line {reader.line_num}: {error}"
                    )
                ]
            ) from error

    return header, rows()


def read_journal(
    raw: bytes,
    profile: JournalProfile,
    *,
    fonds_code: str,
    company_name: str,
    limits: JournalLimits = DEFAULT_LIMITS,
) -> list[JournalVoucher]:
    """Cut a journal (CSV or an Excel workbook) into vouchers. ExportError if the file itself
    cannot be read, OverLimit if it is larger than ``limits``."""
    wanted = list(profile.columns.values())
    header, table = xlsx_table(raw, wanted, limits) if is_xlsx(raw) else _csv_table(raw, limits)
    missing = [c for c in wanted if c not in header]
    if missing:
        raise ExportError(
            [
                Finding(
                    CHECK_2_4, "journal", f"columns missing for profile {profile.name}: {missing}"
                )
            ]
        )
    grouped: dict[str, list[tuple[int, Mapping[str, str]]]] = {}
    cells = 0
    for count, (line, row) in enumerate(table, start=1):
        cells += len(row)
        if count > limits.max_rows:
            raise OverLimit(f"more than the limit of {limits.max_rows} rows")
        if cells > limits.max_cells:
            raise OverLimit(f"more than the limit of {limits.max_cells} cells")
        if not any(row.values()):
            continue  # a blank row: counted, not a voucher
        ours = {field: (row.get(column) or "").strip() for field, column in profile.columns.items()}
        try:
            number = profile.voucher_no.format(**ours)
        except (KeyError, ValueError, IndexError) as error:
            raise ExportError(
                [Finding(CHECK_1_4, f"row {line}", f"voucher number: {error}")]
            ) from error
        grouped.setdefault(number, []).append((line, ours))
    return [_voucher(no, rows, profile, fonds_code, company_name) for no, rows in grouped.items()]


def _voucher(
    voucher_no: str,
    rows: list[tuple[int, Mapping[str, str]]],
    profile: JournalProfile,
    fonds_code: str,
    company_name: str,
) -> JournalVoucher:
    lines = tuple(line for line, _ in rows)
    first = rows[0][1]
    problems: list[Finding] = []
    for field in VOUCHER_FIELDS:
        if field != "summary" and any(r.get(field, "") != first.get(field, "") for _, r in rows):
            problems.append(
                Finding(CHECK_1_5, field, f"rows {list(lines)} of {voucher_no} disagree on {field}")
            )
    try:
        when = _date(first["voucher_date"], profile.date_formats)
        entries = [
            {
                "summary": r["summary"],
                "account_code": r["account_code"],
                "account_name": r["account_name"],
                "debit": str(parse_amount(r["debit"])),
                "credit": str(parse_amount(r["credit"])),
            }
            for _, r in rows
        ]
        count = int(first.get("attachment_count") or 0)
    except ValueError as error:
        problems.append(Finding(CHECK_1_4, voucher_no, str(error)))
    if problems:
        return JournalVoucher(voucher_no, lines, None, tuple(problems))
    document = {
        "format": "aap.voucher.v1",
        "fonds_code": fonds_code,
        "company_name": company_name,
        "fiscal_year": when.year,
        "period": when.month,
        "voucher_no": voucher_no,
        "voucher_date": when.isoformat(),
        "summary": first["summary"],
        "preparer": first["preparer"],
        "reviewer": first["reviewer"],
        "approver": first["approver"],
        "attachment_count": count,
        "entries": entries,
    }
    return JournalVoucher(voucher_no, lines, json.dumps(document, ensure_ascii=False).encode())
