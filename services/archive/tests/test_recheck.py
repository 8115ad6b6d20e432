"""The storage check table over a kept record: what an auditor expects each item to catch."""

import uuid
from datetime import UTC, datetime

from archive.domain.archive_code import ArchiveCodeRule
from archive.domain.package import package_documents
from archive.domain.recheck import Stored, object_keys, recheck
from archive.domain.record import archive, placement
from contracts.events import DocumentIngested, RecordArchived
from contracts.fixity import digest
from contracts.records import CheckOutcome, RecordCategory, StoredFile, VoucherSummary
from contracts.types import Money

RULE = ArchiveCodeRule()
VOUCHER = '{"format": "aap.voucher.v1", "summary": "差旅费"}'.encode()
SCAN = b"%PDF-1.4\n" + b"x" * 200 + b"\n%%EOF\n"


def _file(role: str, name: str, media_type: str, data: bytes) -> StoredFile:
    d = digest(data)
    return StoredFile(
        role=role,
        filename=name,
        media_type=media_type,
        size=len(data),
        bucket="ingest",
        object_key=d.content_key,
        sha256=d.sha256,
        sm3=d.sm3,
    )


def _record() -> RecordArchived:
    doc = DocumentIngested(
        document_id=uuid.uuid4(),
        fonds_code="Q001",
        company_name="上海澄明科技有限公司",
        fiscal_year=2025,
        period=3,
        category=RecordCategory.BOOKKEEPING_VOUCHER,
        voucher=VoucherSummary(
            voucher_no="记-0001",
            voucher_date="2025-03-05",
            summary="差旅费",
            total=Money(amount="1280.00"),
            entry_count=2,
            preparer="张伟",
            reviewer="李娜",
            approver="王强",
            declared_attachment_count=1,
        ),
        files=(
            _file("voucher", "v.json", "application/json", VOUCHER),
            _file("attachment", "scan.pdf", "application/pdf", SCAN),
        ),
        submitted_by="erp",
        submitted_at=datetime.now(UTC),
    )
    return archive(doc, placement(doc, RULE), 7, RULE, bucket="archive", at=datetime.now(UTC))


def _kept(record: RecordArchived) -> dict[str, bytes | None]:
    """What the object store holds right after accession."""
    voucher, scan = record.originals
    kept: dict[str, bytes | None] = {voucher.object_key: VOUCHER, scan.object_key: SCAN}
    kept |= {key: data for key, data, _ in package_documents(record)}
    assert set(kept) == set(object_keys(record))
    return kept


def _failed(record: RecordArchived, kept: dict[str, bytes | None]) -> dict[str, str]:
    report, findings = recheck(Stored(record, kept, RULE))
    assert [r.code for r in report] == ["1-1", "1-7", "1-10", "1-11", "2-7"]
    failed = {r.code: r.detail for r in report if r.outcome is CheckOutcome.FAILED}
    assert {f.code for f in findings} == set(failed)
    return failed


def test_a_record_as_archived_passes_every_item() -> None:
    record = _record()
    assert _failed(record, _kept(record)) == {}


def test_a_replaced_original_fails_fixity_and_if_no_longer_a_pdf_its_type() -> None:
    record = _record()
    scan = record.originals[1]
    kept = _kept(record) | {scan.object_key: SCAN.replace(b"x", b"y")}  # same size, same type
    failed = _failed(record, kept)
    assert list(failed) == ["1-1"]
    assert failed["1-1"].startswith(f"scan.pdf: SHA-256 differs: archived {scan.sha256}")

    failed = _failed(record, _kept(record) | {scan.object_key: b"forged content"})
    assert list(failed) == ["1-1", "1-10"]
    assert failed["1-10"] == (
        f"scan.pdf: 14 bytes, archived as {scan.size}; "
        "is of type application/pdf but its content is not a PDF"
    )


def test_a_missing_or_emptied_original_is_content_absent() -> None:
    record = _record()
    scan = record.originals[1]
    assert _failed(record, _kept(record) | {scan.object_key: None}) == {
        "2-7": "scan.pdf: cannot be read from the object store"
    }
    assert _failed(record, _kept(record) | {scan.object_key: b""}) == {"2-7": "scan.pdf: is empty"}


def test_package_metadata_that_no_longer_matches_the_record_is_found() -> None:
    record = _record()
    meta_key = f"{record.package}metadata.xml"
    edited = _kept(record)[meta_key]
    assert edited is not None
    kept = _kept(record) | {meta_key: edited.replace("差旅费".encode(), "招待费".encode())}
    assert _failed(record, kept) == {
        "1-11": "metadata.xml: differs from the record's metadata in the database"
    }
    kept = _kept(record) | {f"{record.package}check-report.json": None}
    assert _failed(record, kept) == {"1-11": "check-report.json: missing from the package"}


def test_an_archive_code_off_the_rule_is_found_and_correction_versions_are_not() -> None:
    record = _record()
    moved = record.model_copy(update={"archive_code": "Q001-2024-D30-PZ-000007"})  # wrong year
    failed = _failed(moved, _kept(moved))
    assert failed == {
        "1-7": "metadata.xml: archive code 'Q001-2024-D30-PZ-000007' does not follow the rule "
        "'{fonds}-{year}-{retention}-{category}-{seq:06d}' for its record"
    }
    version = record.model_copy(update={"archive_code": f"{record.archive_code}-V2"})
    assert _failed(version, _kept(version)) == {}
    custom = ArchiveCodeRule("{fonds}·{year}-{category}·{seq:05d}")
    parts = {"fonds": "Q1", "year": 2025, "retention": "D30", "category": "PZ"}
    assert custom.problem("Q1·2025-PZ·00012", **parts) is None  # type: ignore[arg-type]
    assert custom.problem("Q1·2025-PZ·0001x", **parts)  # type: ignore[arg-type]
