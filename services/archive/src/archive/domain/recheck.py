"""The four-property check run again over what the archive keeps (``contracts.checks``, the
handover and preservation stages).

Intake checked each upload once; this table checks a stored record against its own metadata:
on demand, before a handover, and on a schedule. The report lists every item of the stage's
table: performed, or why not. Every failure becomes an integrity alert.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import defusedxml.ElementTree as safe_xml

from archive.domain import metadata
from archive.domain.archive_code import ArchiveCodeRule
from archive.domain.package import package_documents
from archive.domain.record import locked_version
from archive.domain.retention import RETENTION_RULES
from contracts.checks import (
    CHECK_1_1,
    CHECK_1_7,
    CHECK_1_10,
    CHECK_1_11,
    CHECK_2_1,
    CHECK_2_2,
    CHECK_2_3,
    CHECK_2_6,
    CHECK_2_7,
    CHECK_3_1,
    CHECK_3_2,
    CHECK_3_4,
    CHECK_3_5,
    CHECK_4_1,
    CHECK_4_2,
    CHECK_4_7,
    CHECK_PACKAGE_KEPT,
    CheckItem,
    Stage,
    at,
)
from contracts.events import RecordArchived
from contracts.fixity import digest
from contracts.formats import format_of, preserved, type_problem
from contracts.records import CheckOutcome, CheckResult, StoredFile


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a stored record, and the file it concerns."""

    item: CheckItem
    filename: str
    object_key: str
    expected_sha256: str
    found_sha256: str | None  # None: the object cannot be read
    detail: str


@dataclass(frozen=True)
class Lock:
    """How the object store holds an archived version now (4-7)."""

    until: datetime | None  # COMPLIANCE retention until then
    legal_hold: bool


@dataclass(frozen=True)
class Skipped:
    """An item not performed on this record, or not applicable to it, and why."""

    outcome: CheckOutcome
    reason: str


@dataclass(frozen=True)
class Stored:
    """A record as kept now: its metadata, each key's archived version as the object store
    serves it, and the versions put over any key since (no policy can refuse those: they are
    never read as the record's, and each is a finding). What the re-check learned around them
    (the virus scan, readability, locks, the numbering of its period) comes with it; None where
    it was not asked."""

    record: RecordArchived
    objects: Mapping[str, bytes | None]  # key → the archived version's bytes, None: unreadable
    rule: ArchiveCodeRule
    later: Mapping[str, Sequence[str]] = field(default_factory=dict)  # key → versions put since
    listed: Sequence[str] = ()  # every key under the record's package folder
    scanner: str | None = None  # the virus scanner that answered; None: none configured
    scans: Mapping[str, str | None] = field(default_factory=dict)  # key → signature found
    unreadable: Mapping[str, str] = field(default_factory=dict)  # key → why it cannot be read
    locks: Mapping[str, Lock] | None = None  # key → its lock now; None: not asked
    numbering_gaps: Sequence[str] | None = None  # open gaps of a voucher's 凭证字 and month
    numbering_unasked: str = "the period's numbering was not asked"  # why gaps are None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


def _sha(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data is not None else None


def _fixity(s: Stored) -> list[Finding]:
    found = []
    for f in s.record.originals:
        data = s.objects.get(f.object_key)
        if not data:
            continue  # missing content is 2-7's finding
        d = digest(data)
        if (d.sha256, d.sm3) != (f.sha256, f.sm3):
            which = "SHA-256" if d.sha256 != f.sha256 else "SM3"
            detail = f"{which} differs: archived {f.sha256}, found {d.sha256}"
            found.append(Finding(CHECK_1_1, f.filename, f.object_key, f.sha256, d.sha256, detail))
    return found


def _archive_code(s: Stored) -> list[Finding]:
    r = s.record
    rule = RETENTION_RULES[r.category]
    problem = s.rule.problem(
        r.archive_code,
        fonds=r.fonds_code,
        year=r.fiscal_year,
        retention=rule.period.code,
        category=rule.category_code,
    )
    if problem is None:
        return []
    key, expected, _ = package_documents(r)[0]  # metadata.xml carries the code
    return [
        Finding(
            CHECK_1_7, "metadata.xml", key, _sha(expected) or "", _sha(s.objects.get(key)), problem
        )
    ]


def _content_attributes(s: Stored) -> list[Finding]:
    found = []
    for f in s.record.originals:
        data = s.objects.get(f.object_key)
        if not data:
            continue
        problems = [] if len(data) == f.size else [f"{len(data)} bytes, archived as {f.size}"]
        if problem := type_problem(f.media_type, data):
            problems.append(problem)
        elif f.format and (now := format_of(f.media_type, data)) != f.format:
            problems.append(f"its format is {now or 'not told'}, archived as {f.format}")
        if problems:
            detail = "; ".join(problems)
            found.append(
                Finding(CHECK_1_10, f.filename, f.object_key, f.sha256, _sha(data), detail)
            )
    return found


def _package_linked(s: Stored) -> list[Finding]:
    found = []
    for key, expected, _ in package_documents(s.record):
        data = s.objects.get(key)
        if data != expected:
            name = key.rsplit("/", 1)[-1]
            detail = (
                "missing from the package"
                if data is None
                else "differs from the record's metadata in the database"
            )
            found.append(
                Finding(CHECK_PACKAGE_KEPT, name, key, _sha(expected) or "", _sha(data), detail)
            )
    return found


def _where_recorded(s: Stored) -> list[Finding]:
    found = [
        Finding(
            CHECK_1_11, f.filename, f.object_key, f.sha256, None, "cannot be read from its place"
        )
        for f in s.record.originals
        if s.objects.get(f.object_key) is None
    ]
    expected = {f.object_key: (f.filename, f.sha256) for f in s.record.originals} | {
        key: (key.rsplit("/", 1)[-1], _sha(data) or "")
        for key, data, _ in package_documents(s.record)
    }
    for key, versions in s.later.items():
        name, sha256 = expected.get(key, (key.rsplit("/", 1)[-1], ""))
        detail = (
            f"a later version was put over the archived one ({', '.join(versions)}): what a plain "
            "read of its place serves is not the record's; the archived version is what is read"
        )
        found.append(Finding(CHECK_1_11, name, key, sha256, None, detail))
    return found


def _content_present(s: Stored) -> list[Finding]:
    return [
        Finding(CHECK_2_7, f.filename, f.object_key, f.sha256, _sha(b""), "is empty")
        for f in s.record.originals
        if s.objects.get(f.object_key) == b""
    ]


def _of(s: Stored, f: StoredFile, item: CheckItem, detail: str) -> Finding:
    return Finding(
        item, f.filename, f.object_key, f.sha256, _sha(s.objects.get(f.object_key)), detail
    )


def _file_count(s: Stored) -> list[Finding]:
    """2-1: the package folder holds the originals its metadata lists, and no other."""
    listed = {f.object_key for f in s.record.originals}
    folder = f"{s.record.package or s.record.archive_code + '/'}originals/"
    extra = sorted(k for k in s.listed if k.startswith(folder) and k not in listed)
    return [
        Finding(
            CHECK_2_1,
            key.rsplit("/", 1)[-1],
            key,
            "",
            None,
            f"in the package but not among its {len(listed)} originals",
        )
        for key in extra
    ]


def _byte_count(s: Stored) -> list[Finding]:
    """2-2: the originals add up to the bytes the metadata records."""
    recorded = sum(f.size for f in s.record.originals)
    found = sum(
        len(data or b"") for f in s.record.originals if (data := s.objects.get(f.object_key))
    )
    if found == recorded or any(s.objects.get(f.object_key) is None for f in s.record.originals):
        return []  # a missing original is 1-11's finding, not a count of bytes
    key, _, _ = package_documents(s.record)[0]
    detail = f"the originals hold {found} bytes, the metadata records {recorded}"
    return [Finding(CHECK_2_2, "metadata.xml", key, "", None, detail)]


def _metadata_document(s: Stored) -> tuple[str, bytes | None]:
    key, _, _ = package_documents(s.record)[0]
    return key, s.objects.get(key)


def _metadata_complete(s: Stored) -> list[Finding] | Skipped:
    """2-3: the package's metadata.xml, as kept, validates against the schema of its format."""
    if s.record.package_format < metadata.FORMAT:
        return Skipped(
            CheckOutcome.NOT_APPLICABLE,
            "archived in package format 1, which has no schema: its metadata.xml is compared "
            "whole with the record's (AAP-PACKAGE-KEPT)",
        )
    key, data = _metadata_document(s)
    if data is None:
        return []  # missing: AAP-PACKAGE-KEPT's finding
    return [
        Finding(CHECK_2_3, "metadata.xml", key, "", _sha(data), problem)
        for problem in metadata.problems(data)
    ]


def _numbering(s: Stored) -> list[Finding] | Skipped:
    """2-6: the voucher's 凭证字 runs without an open gap in its month."""
    if s.record.voucher is None:
        return Skipped(CheckOutcome.NOT_APPLICABLE, "not a voucher: it has no number in a run")
    if s.numbering_gaps is None:
        return Skipped(CheckOutcome.NOT_PERFORMED, s.numbering_unasked)
    key, data = _metadata_document(s)
    return [
        Finding(CHECK_2_6, "metadata.xml", key, "", _sha(data), gap) for gap in s.numbering_gaps
    ]


def _metadata_readable(s: Stored) -> list[Finding]:
    """3-1: the package's metadata.xml parses."""
    key, data = _metadata_document(s)
    if data is None:
        return []  # missing: AAP-PACKAGE-KEPT's finding
    try:
        safe_xml.fromstring(data)
    except ET.ParseError as error:
        return [
            Finding(CHECK_3_1, "metadata.xml", key, "", _sha(data), f"cannot be parsed: {error}")
        ]
    return []


def _in_database(s: Stored) -> list[Finding]:
    """3-2: the record was read from the archive's database for this re-check: it is there."""
    return []


def _content_readable(s: Stored) -> list[Finding]:
    """3-4: every original can still be opened by a reader of its format."""
    return [
        _of(s, f, CHECK_3_4, why)
        for f in s.record.originals
        if (why := s.unreadable.get(f.object_key))
    ]


def _environment(s: Stored) -> list[Finding] | Skipped:
    """3-5: the format each original's metadata records is one the archive preserves."""
    recorded = [f for f in s.record.originals if f.format]
    if not recorded:
        return Skipped(
            CheckOutcome.NOT_PERFORMED,
            "archived before formats were recorded: no environment to judge",
        )
    return [
        _of(s, f, CHECK_3_5, f"format {f.format} is not one the archive preserves")
        for f in recorded
        if not preserved(f.format or "")
    ]


NO_SCANNER = "no virus scanner is configured for the archive (AAP_ARCHIVE_CLAMD_ADDRESS)"


def _scanner(s: Stored) -> list[Finding] | Skipped:
    """4-1: a scanner answered (not configured is a gap of the installation, not a finding
    about the record: not performed, and the report says so)."""
    return [] if s.scanner else Skipped(CheckOutcome.NOT_PERFORMED, NO_SCANNER)


def _virus_scan(s: Stored) -> list[Finding] | Skipped:
    """4-2: each original scanned again, with the signatures of the day."""
    if not s.scanner:
        return Skipped(CheckOutcome.NOT_PERFORMED, NO_SCANNER)
    return [
        _of(s, f, CHECK_4_2, f"{signature} found ({s.scanner})")
        for f in s.record.originals
        if (signature := s.scans.get(f.object_key))
    ]


def _locked(s: Stored) -> list[Finding] | Skipped:
    """4-7 as kept: each original is still under its lock while its retention runs."""
    if s.locks is None:
        return Skipped(CheckOutcome.NOT_PERFORMED, "the object store's locks were not asked")
    last = s.record.retention_until
    if last is not None and last < s.now.date():
        return Skipped(CheckOutcome.NOT_APPLICABLE, f"its retention ended on {last}")
    found = []
    for f in s.record.originals:
        lock = s.locks.get(f.object_key)
        if lock is None:
            continue  # missing: 1-11's finding
        if not lock.legal_hold and (lock.until is None or lock.until <= s.now):
            found.append(_of(s, f, CHECK_4_7, "is under no lock: neither retention nor hold"))
    return found


Check = Callable[[Stored], "list[Finding] | Skipped"]

# Items whose findings are the year's, not damage to the record: a gap in the numbering is
# reported in the record's re-check, never raised as an integrity alert, and a handover names
# it once, as the year's gap (GET /v1/completeness), which an archivist may waive.
OF_THE_YEAR = frozenset({CHECK_2_6})

# The table, one check per registry item the archive performs on what it keeps; every other
# item of the stage says why it does not apply (``CheckItem.unperformed``).
RECHECKS: Mapping[CheckItem, Check] = {
    CHECK_1_1: _fixity,
    CHECK_1_7: _archive_code,
    CHECK_1_10: _content_attributes,
    CHECK_1_11: _where_recorded,
    CHECK_PACKAGE_KEPT: _package_linked,
    CHECK_2_1: _file_count,
    CHECK_2_2: _byte_count,
    CHECK_2_3: _metadata_complete,
    CHECK_2_6: _numbering,
    CHECK_2_7: _content_present,
    CHECK_3_1: _metadata_readable,
    CHECK_3_2: _in_database,
    CHECK_3_4: _content_readable,
    CHECK_3_5: _environment,
    CHECK_4_1: _scanner,
    CHECK_4_2: _virus_scan,
    CHECK_4_7: _locked,
}


def object_keys(record: RecordArchived) -> list[str]:
    """Every key the re-check reads: the originals and the package's descriptive files."""
    return [f.object_key for f in record.originals] + [k for k, _, _ in package_documents(record)]


def archived_versions(
    record: RecordArchived,
    recorded: Mapping[str, str | None],
    listed: Mapping[str, Sequence[str]],
) -> dict[str, str | None]:
    """The version of each of the record's objects that is the record's: the one recorded at
    accession, or where none was (the package of a record archived before it was), the first
    written under the key (``listed``: each key's versions, oldest first)."""
    by_original = {f.object_key: locked_version(recorded, f) for f in record.originals}
    out: dict[str, str | None] = {}
    for key in object_keys(record):
        kept = by_original.get(key, recorded.get(key))
        out[key] = kept or next(iter(listed.get(key, ())), None)
    return out


def recheck(
    stored: Stored, stage: Stage = Stage.PRESERVATION
) -> tuple[list[CheckResult], list[Finding]]:
    """The report (every item of the stage's table) and every finding behind its failures."""
    report, findings = [], []
    for item in at(stage):
        check = RECHECKS.get(item)
        if check is None:
            skipped = item.unperformed(stage)
            assert skipped is not None, f"{item.code} is neither re-checked nor excused"
            report.append(skipped)
            continue
        found = check(stored)
        if isinstance(found, Skipped):
            report.append(item.result(found.outcome, found.reason))
            continue
        findings += found
        report.append(
            item.result(
                CheckOutcome.FAILED if found else CheckOutcome.PASSED,
                "; ".join(f"{f.filename}: {f.detail}" for f in found),
            )
        )
    return report, findings
