"""A journal upload as the worker pool reads it: spooled to disk, of whichever kind, read whole
or refused whole."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ingest.parsers.findings import ExportError, Finding
from ingest.parsers.journal import JournalProfile, JournalVoucher, read_journal
from ingest.parsers.journal_xml import read_xml_journal
from ingest.parsers.tables import JournalLimits, OverLimit


@dataclass(frozen=True)
class JournalRead:
    """A journal as read: its vouchers; or why it cannot be read at all; or the limit it is over."""

    kind: str  # "csv", "xlsx" or "xml"
    vouchers: tuple[JournalVoucher, ...] = ()
    findings: tuple[Finding, ...] = ()
    over_limit: str | None = None


def journal_kind(head: bytes, filename: str) -> str:
    """What a journal is, by its first bytes (and, for XML, its name)."""
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if filename.lower().endswith(".xml") or head.lstrip().startswith(b"<"):
        return "xml"
    return "csv"


def read_journal_file(
    path: Path,
    filename: str,
    profile: JournalProfile | None,
    *,
    fonds_code: str,
    company_name: str,
    limits: JournalLimits,
) -> JournalRead:
    """The pool's entry point: a journal spooled to ``path``, read whole or refused whole."""
    raw = path.read_bytes()
    kind = journal_kind(raw[:512], filename)
    try:
        if kind == "xml":  # the XML export carries its own fonds and names: no profile needed
            vouchers = read_xml_journal(raw, limits)
        else:
            assert profile is not None, "a CSV or Excel journal is read through a profile"
            vouchers = read_journal(
                raw, profile, fonds_code=fonds_code, company_name=company_name, limits=limits
            )
    except ExportError as error:
        return JournalRead(kind, findings=tuple(error.findings))
    except OverLimit as over:
        return JournalRead(kind, over_limit=str(over))
    return JournalRead(kind, tuple(vouchers))
