"""The four-property check run again over what the archive keeps (``contracts.checks``, the
handover and preservation stages).

Intake checked each upload once; this table checks a stored record against its own metadata:
on demand, before a handover, and on a schedule. Every failure becomes an integrity alert.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from archive.domain.archive_code import ArchiveCodeRule
from archive.domain.package import package_documents
from archive.domain.record import locked_version
from archive.domain.retention import RETENTION_RULES
from contracts.checks import (
    CHECK_1_7,
    CHECK_1_10,
    CHECK_1_11,
    CHECK_2_7,
    CHECK_FIXITY_KEPT,
    CHECK_PACKAGE_KEPT,
    CheckItem,
)
from contracts.events import RecordArchived
from contracts.fixity import digest
from contracts.formats import type_problem
from contracts.records import CheckOutcome, CheckResult


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
class Stored:
    """A record as kept now: its metadata, each key's archived version as the object store
    serves it, and the versions put over any key since (no policy can refuse those: they are
    never read as the record's, and each is a finding)."""

    record: RecordArchived
    objects: Mapping[str, bytes | None]  # key → the archived version's bytes, None: unreadable
    rule: ArchiveCodeRule
    later: Mapping[str, Sequence[str]] = field(default_factory=dict)  # key → versions put since


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
            found.append(
                Finding(CHECK_FIXITY_KEPT, f.filename, f.object_key, f.sha256, d.sha256, detail)
            )
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


# The table, one check per registry item of the kept stages, in the standard's order.
RECHECKS: Mapping[CheckItem, Callable[[Stored], list[Finding]]] = {
    CHECK_FIXITY_KEPT: _fixity,
    CHECK_1_7: _archive_code,
    CHECK_1_10: _content_attributes,
    CHECK_1_11: _where_recorded,
    CHECK_PACKAGE_KEPT: _package_linked,
    CHECK_2_7: _content_present,
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


def recheck(stored: Stored) -> tuple[list[CheckResult], list[Finding]]:
    """The report (one result per item) and every finding behind its failures."""
    report, findings = [], []
    for item, check in RECHECKS.items():
        found = check(stored)
        findings += found
        report.append(
            item.result(
                CheckOutcome.FAILED if found else CheckOutcome.PASSED,
                "; ".join(f"{f.filename}: {f.detail}" for f in found),
            )
        )
    return report, findings
