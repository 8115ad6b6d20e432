"""Voucher journals (凭证序时簿) exported by ERPs as CSV or Excel: one row per entry line.

Column names differ by ERP; a *profile* (configuration, see ``ingest/profiles/*.json``) maps them
to our fields and says how to build the voucher number. Rows are grouped into vouchers; each
voucher is then judged like a voucher uploaded alone.
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

from ingest.domain.journal_xlsx import Rows, is_xlsx, xlsx_table
from ingest.domain.voucher_export import ExportError, Finding, decode_text

VOUCHER_FIELDS = ("voucher_date", "summary", "preparer", "reviewer", "approver", "attachment_count")
ENTRY_FIELDS = ("summary", "account_code", "account_name", "debit", "credit")
MAX_ROWS = 100_000


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


def _table(raw: bytes, wanted: list[str]) -> tuple[list[str], Rows]:
    if is_xlsx(raw):
        return xlsx_table(raw, wanted)
    reader = csv.DictReader(io.StringIO(decode_text(raw)))
    return list(reader.fieldnames or []), enumerate(reader, start=2)


def read_journal(
    raw: bytes, profile: JournalProfile, *, fonds_code: str, company_name: str
) -> list[JournalVoucher]:
    """Cut a journal (CSV or an Excel workbook) into vouchers. Raises ExportError if the file
    itself cannot be read."""
    header, table = _table(raw, list(profile.columns.values()))
    missing = [c for c in profile.columns.values() if c not in header]
    if missing:
        raise ExportError(
            [("2-4", "journal", f"columns missing for profile {profile.name}: {missing}")]
        )
    grouped: dict[str, list[tuple[int, Mapping[str, str]]]] = {}
    for line, row in table:
        if line > MAX_ROWS:
            raise ExportError([("3-3", "journal", f"more than {MAX_ROWS} rows")])
        ours = {field: (row.get(column) or "").strip() for field, column in profile.columns.items()}
        try:
            number = profile.voucher_no.format(**ours)
        except (KeyError, ValueError) as error:
            raise ExportError([("1-4", f"row {line}", f"voucher number: {error}")]) from error
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
                ("1-5", field, f"rows {list(lines)} of {voucher_no} disagree on {field}")
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
        problems.append(("1-4", voucher_no, str(error)))
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
