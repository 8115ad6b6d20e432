"""An archive record (会计档案) made from an ingested document."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from archive.domain import metadata
from archive.domain.archive_code import ArchiveCodeRule
from archive.domain.corrections import judge, link_to
from archive.domain.retention import RETENTION_RULES, retention_until
from contracts.checks import (
    CHECK_1_7,
    CHECK_1_11,
    CHECK_2_3,
    CHECK_3_2,
    CHECK_4_7,
    CHECK_CORRECTION,
    CheckItem,
    conclude,
)
from contracts.events import DocumentIngested, RecordArchived
from contracts.records import CheckOutcome, CheckResult, RetentionPeriod, StoredFile


@dataclass(frozen=True)
class Placement:
    """Where a record goes before its number is known: the sequence scope and its code parts."""

    scope: str
    fonds: str
    year: int
    retention_code: str
    category_code: str

    def code_check(self, code: str, rule: ArchiveCodeRule) -> CheckResult:
        """1-7: whether ``code`` is what the rule gives here."""
        problem = rule.problem(
            code,
            fonds=self.fonds,
            year=self.year,
            retention=self.retention_code,
            category=self.category_code,
        )
        if problem:
            return CHECK_1_7.result(CheckOutcome.FAILED, problem)
        return CHECK_1_7.result(CheckOutcome.PASSED)

    def archive_code(self, seq: int, rule: ArchiveCodeRule) -> str:
        """The archive code of item ``seq`` here."""
        return rule.build(
            fonds=self.fonds,
            year=self.year,
            retention=self.retention_code,
            category=self.category_code,
            seq=seq,
        )


def placement(doc: DocumentIngested, rule: ArchiveCodeRule) -> Placement:
    r = RETENTION_RULES[doc.category]
    scope = rule.sequence_scope(doc.fonds_code, doc.fiscal_year, r.period.code, r.category_code)
    return Placement(scope, doc.fonds_code, doc.fiscal_year, r.period.code, r.category_code)


def locked_version(versions: Mapping[str, str | None], f: StoredFile) -> str | None:
    """The object version locked at archiving for an original: kept per object key (two
    originals may hold the same bytes), per SHA-256 for records archived before."""
    return versions.get(f.object_key, versions.get(f.sha256))


def original_key(archive_code: str, n: int, f: StoredFile) -> str:
    """Originals sit in the record's package folder, named by the archive code (DA/T 92 §8)."""
    name = f.filename.replace("/", "_").replace("\\", "_")
    return f"{archive_code}/originals/{n:02d}-{name}"


def archive(
    doc: DocumentIngested,
    where: Placement,
    seq: int,
    rule: ArchiveCodeRule,
    *,
    bucket: str,
    at: datetime,
    corrected: RecordArchived | None = None,
) -> RecordArchived:
    """The archived record's facts. Its id is the document's: one document, one record.

    A correction is numbered like any voucher, in its own year and period; ``corrected`` is
    the kept record it names (None: it names none, or one not held), which is not touched.
    """
    r = RETENTION_RULES[doc.category]
    code = where.archive_code(seq, rule)
    accessed = accession_checks(doc, where, code, rule, corrected)
    report = (*doc.check_report, *accessed)
    record = RecordArchived(
        record_id=doc.document_id,
        document_id=doc.document_id,
        archive_code=code,
        fonds_code=doc.fonds_code,
        fiscal_year=doc.fiscal_year,
        category=doc.category,
        retention=r.period,
        retention_until=retention_until(r.period, doc.fiscal_year, disposal=disposed_on(doc)),
        originals=tuple(
            f.model_copy(update={"bucket": bucket, "object_key": original_key(code, n, f)})
            for n, f in enumerate(doc.files, 1)
        ),
        archived_at=at,
        invoices=doc.invoices,
        receipts=doc.receipts,
        fiscal_bills=doc.fiscal_bills,
        check_report=report,
        check_conclusion=conclude(report),
        review_required=doc.review_required
        or any(r.outcome is CheckOutcome.FAILED for r in accessed),
        period=doc.period,
        voucher=doc.voucher,
        material=doc.material,
        package=f"{code}/",
        corrects=link_to(doc, corrected),
        submitted_by=doc.submitted_by,
        company_name=doc.company_name,
        package_format=metadata.FORMAT,
    )
    return with_metadata_checked(record)


def with_metadata_checked(record: RecordArchived) -> RecordArchived:
    """The record with 2-3 in its report: its metadata.xml validated against the schema. The
    conclusion the document carries does not change what the schema asks, so the document is
    validated once, as it stands before 2-3 is added (in place of a 2-3 line not yet run)."""
    found = metadata.problems(metadata.metadata_xml(record))
    check = (
        CHECK_2_3.result(CheckOutcome.FAILED, "; ".join(found))
        if found
        else CHECK_2_3.result(CheckOutcome.PASSED, "metadata.xml validates against metadata-2.xsd")
    )
    kept = record.check_report
    report = (
        tuple(check if c.code == CHECK_2_3.code else c for c in kept)
        if any(c.code == CHECK_2_3.code for c in kept)
        else (*kept, check)
    )
    return record.model_copy(
        update={
            "check_report": report,
            "check_conclusion": conclude(report),
            "review_required": record.review_required or bool(found),
        }
    )


def disposed_on(doc: DocumentIngested) -> date | None:
    """A fixed-asset card's disposal, when uploaded with it."""
    return doc.material.disposed_on if doc.material else None


VERSION = re.compile(r"-V(\d+)$")


def base_code(archive_code: str) -> str:
    """The archive code without the version suffix of a record archived as a version of
    another (``-V2``: corrections before they were vouchers of their own)."""
    return VERSION.sub("", archive_code)


# The archiving items the archive performs when it takes a document in, and what a failure does:
# the record is held for review, or accession stops and is retried until the item passes.
AT_ACCESSION: Mapping[CheckItem, Literal["review", "retry"]] = {
    CHECK_1_7: "review",
    CHECK_1_11: "retry",
    CHECK_2_3: "review",
    CHECK_3_2: "retry",
    CHECK_4_7: "retry",
    CHECK_CORRECTION: "review",
}


def accession_checks(
    doc: DocumentIngested,
    where: Placement,
    code: str,
    rule: ArchiveCodeRule,
    corrected: RecordArchived | None,
) -> list[CheckResult]:
    """The archiving-stage items the archive performs at accession, beside intake's report.

    1-11, 3-2 and 4-7 are stated as passed because accession stops (and is retried, or the
    document refused) unless they hold: each original is hashed again where intake stored it
    and copied from there under lock, and the record is read back from the database before it
    is announced. 2-3 is added once the record is whole (``with_metadata_checked``).
    """
    return [
        where.code_check(code, rule),
        CHECK_1_11.result(CheckOutcome.PASSED, "each original copied from its recorded place"),
        CHECK_3_2.result(CheckOutcome.PASSED, "read back before the record was announced"),
        CHECK_4_7.result(CheckOutcome.PASSED, ARCHIVED_AS_CHECKED),
        judge(doc, corrected),
    ]


ARCHIVED_AS_CHECKED = (
    "each original hashed again (SHA-256, SM3) where intake stored it, as ingest announced it "
    "over the authenticated broker, and copied from that version under lock"
)


@dataclass(frozen=True)
class ObjectLock:
    """How the object store must lock an original: a COMPLIANCE date, a legal hold, or neither."""

    until: datetime | None
    legal_hold: bool


# Permanent (永久) records: COMPLIANCE retention this far past their fiscal year, which no
# credential can shorten, as well as their legal hold.
PERMANENT_LOCK_YEARS = 100


def object_lock(
    retention: RetentionPeriod, last_day: date | None, now: datetime, fiscal_year: int
) -> ObjectLock:
    """Locked until the day after the last day of retention (UTC); permanent records are held
    and locked ``PERMANENT_LOCK_YEARS`` past their fiscal year. A fixed-asset card whose asset
    is still in use has no last day yet ("固定资产报废清理后保管5年", 附表1 序号6): it is held,
    with no date, until its disposal is recorded and the date can be counted.

    A record whose retention is already over when it is archived (an old record taken over late)
    gets no lock: S3 refuses retention dates in the past, and there is nothing left to protect.
    """
    if last_day is None and not retention.permanent:
        return ObjectLock(until=None, legal_hold=True)
    if last_day is None:
        far = datetime(fiscal_year + PERMANENT_LOCK_YEARS + 1, 1, 1, tzinfo=UTC)
        return ObjectLock(until=far, legal_hold=True)
    until = datetime(last_day.year, last_day.month, last_day.day, tzinfo=UTC) + timedelta(days=1)
    return ObjectLock(until=until if until > now else None, legal_hold=False)
