"""The storage check table over a kept record: what an auditor expects each item to catch."""

from datetime import UTC, datetime

from archive.domain.archive_code import ArchiveCodeRule
from archive.domain.package import package_documents
from archive.domain.recheck import Stored, object_keys, recheck
from archive.domain.record import archive, placement
from contracts.events import RecordArchived
from contracts.records import CheckOutcome
from devkit.samples import ingested_document, stored_file

RULE = ArchiveCodeRule()
VOUCHER = '{"format": "aap.voucher.v1", "summary": "差旅费"}'.encode()
SCAN = b"%PDF-1.4\n" + b"x" * 200 + b"\n%%EOF\n"


def _record() -> RecordArchived:
    doc = ingested_document(
        [
            stored_file("voucher", "v.json", "application/json", VOUCHER),
            stored_file("attachment", "scan.pdf", "application/pdf", SCAN),
        ]
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
    assert [r.code for r in report] == ["1-1", "1-7", "1-10", "1-11", "AAP-PACKAGE-KEPT", "2-7"]
    failed = {r.code: r.detail for r in report if r.outcome is CheckOutcome.FAILED}
    assert {f.item.code for f in findings} == set(failed)
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
        "1-11": "scan.pdf: cannot be read from its place"  # not where its metadata says
    }
    assert _failed(record, _kept(record) | {scan.object_key: b""}) == {"2-7": "scan.pdf: is empty"}


def test_package_metadata_that_no_longer_matches_the_record_is_found() -> None:
    record = _record()
    meta_key = f"{record.package}metadata.xml"
    edited = _kept(record)[meta_key]
    assert edited is not None
    kept = _kept(record) | {meta_key: edited.replace("差旅费".encode(), "招待费".encode())}
    assert _failed(record, kept) == {
        "AAP-PACKAGE-KEPT": "metadata.xml: differs from the record's metadata in the database"
    }
    kept = _kept(record) | {f"{record.package}check-report.json": None}
    assert _failed(record, kept) == {
        "AAP-PACKAGE-KEPT": "check-report.json: missing from the package"
    }


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
