"""The storage check table over a kept record: what an auditor expects each item to catch."""

from datetime import UTC, datetime, timedelta

from archive.domain.archive_code import ArchiveCodeRule
from archive.domain.package import package_documents
from archive.domain.recheck import Lock, Stored, object_keys, recheck
from archive.domain.record import archive, placement
from contracts.checks import Stage, at
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


LOCKED = Lock(datetime(2056, 1, 1, tzinfo=UTC), legal_hold=False)


def _stored(record: RecordArchived, kept: dict[str, bytes | None], **around: object) -> Stored:
    """The record as kept, with a scanner that found nothing, every original readable and
    locked, and its numbering continuous: what a healthy archive tells the re-check."""
    known: dict[str, object] = {
        "listed": sorted(k for k, v in kept.items() if v is not None),
        "scanner": "ClamAV 1.0.7",
        "scans": {f.object_key: None for f in record.originals},
        "locks": {f.object_key: LOCKED for f in record.originals},
        "numbering_gaps": [],
    }
    return Stored(record, kept, RULE, **(known | around))  # type: ignore[arg-type]


def _failed(
    record: RecordArchived, kept: dict[str, bytes | None], **around: object
) -> dict[str, str]:
    for stage in (Stage.HANDOVER, Stage.PRESERVATION):
        report, findings = recheck(_stored(record, kept, **around), stage)
        # Every item of the stage's table, each with an outcome, or why it has none.
        assert [r.code for r in report] == [i.code for i in at(stage)]
        assert all(r.detail for r in report if r.outcome is not CheckOutcome.PASSED)
        failed = {r.code: r.detail for r in report if r.outcome is CheckOutcome.FAILED}
        assert {f.item.code for f in findings} == set(failed)
    return failed


def _outcome(
    record: RecordArchived, kept: dict[str, bytes | None], code: str, **around: object
) -> tuple[CheckOutcome, str]:
    report, _ = recheck(_stored(record, kept, **around))
    return next((r.outcome, r.detail) for r in report if r.code == code)


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
    assert list(failed) == ["1-1", "1-10", "2-2"]  # and the package's bytes no longer add up
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
    assert _failed(record, _kept(record) | {scan.object_key: b""}) == {
        "2-2": f"metadata.xml: the originals hold {len(VOUCHER)} bytes, the metadata records "
        f"{len(VOUCHER) + len(SCAN)}",
        "2-7": "scan.pdf: is empty",
    }


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


def test_metadata_that_no_longer_validates_fails_2_3_and_unparsable_fails_3_1() -> None:
    record = _record()
    meta_key = f"{record.package}metadata.xml"
    edited = _kept(record)[meta_key]
    assert edited is not None and record.package_format == 2
    without_title = edited.replace(f"<题名>{record.title}</题名>".encode(), b"")
    failed = _failed(record, _kept(record) | {meta_key: without_title})
    assert set(failed) == {"2-3", "AAP-PACKAGE-KEPT"}
    assert "题名" in failed["2-3"]
    failed = _failed(record, _kept(record) | {meta_key: b"<not xml"})
    assert set(failed) == {"2-3", "3-1", "AAP-PACKAGE-KEPT"}
    assert "cannot be parsed" in failed["3-1"]


def test_a_record_of_the_first_package_format_has_no_schema_to_meet() -> None:
    old = _record().model_copy(update={"package_format": 1})
    state, why = _outcome(old, _kept(old), "2-3")
    assert state is CheckOutcome.NOT_APPLICABLE and "format 1" in why
    assert _failed(old, _kept(old)) == {}


def test_a_virus_found_by_todays_signatures_fails_4_2_and_no_scanner_is_said() -> None:
    record = _record()
    scan = record.originals[1]
    infected = {f.object_key: None for f in record.originals} | {scan.object_key: "Eicar-Sig"}
    assert _failed(record, _kept(record), scans=infected) == {
        "4-2": "scan.pdf: Eicar-Sig found (ClamAV 1.0.7)"
    }
    for code in ("4-1", "4-2"):
        state, why = _outcome(record, _kept(record), code, scanner=None, scans={})
        assert state is CheckOutcome.NOT_PERFORMED and "AAP_ARCHIVE_CLAMD_ADDRESS" in why


def test_an_original_no_reader_opens_any_more_fails_3_4() -> None:
    record = _record()
    scan = record.originals[1]
    why = {scan.object_key: "cannot be read as application/pdf (PdfReadError: EOF marker)"}
    failed = _failed(record, _kept(record), unreadable=why)
    assert failed == {"3-4": f"scan.pdf: {why[scan.object_key]}"}


def test_a_file_added_to_the_package_folder_fails_2_1() -> None:
    record = _record()
    extra = f"{record.package}originals/99-planted.pdf"
    failed = _failed(record, _kept(record) | {extra: SCAN})
    assert failed == {"2-1": "99-planted.pdf: in the package but not among its 2 originals"}


def test_an_original_no_longer_locked_fails_4_7_until_its_retention_ends() -> None:
    record = _record()
    scan = record.originals[1]
    expired = Lock(datetime(2020, 1, 1, tzinfo=UTC), legal_hold=False)
    locks = {f.object_key: LOCKED for f in record.originals} | {scan.object_key: expired}
    assert _failed(record, _kept(record), locks=locks) == {
        "4-7": "scan.pdf: is under no lock: neither retention nor hold"
    }
    held = {scan.object_key: Lock(None, legal_hold=True)}
    assert _failed(record, _kept(record), locks={**locks, **held}) == {}
    assert record.retention_until is not None
    later = datetime.combine(record.retention_until, datetime.min.time(), UTC) + timedelta(days=2)
    state, why = _outcome(record, _kept(record), "4-7", locks=locks, now=later)
    assert state is CheckOutcome.NOT_APPLICABLE and "retention ended" in why


def test_an_open_gap_in_the_vouchers_numbering_fails_2_6() -> None:
    record = _record()
    gaps = ["记 numbers 0002–0003 are missing (断号)"]
    assert _failed(record, _kept(record), numbering_gaps=gaps) == {
        "2-6": f"metadata.xml: {gaps[0]}"
    }
    state, why = _outcome(record, _kept(record), "2-6", numbering_gaps=None)
    assert state is CheckOutcome.NOT_PERFORMED and "numbering" in why


def test_a_format_other_than_the_one_recorded_fails_1_10() -> None:
    record = _record()
    scan = record.originals[1]
    assert scan.format == "PDF 1.4"
    newer = SCAN.replace(b"%PDF-1.4", b"%PDF-1.7")
    failed = _failed(record, _kept(record) | {scan.object_key: newer})
    assert set(failed) == {"1-1", "1-10"}
    assert "its format is PDF 1.7, archived as PDF 1.4" in failed["1-10"]


def test_the_handover_and_preservation_tables_differ_from_archivings_only_in_aap_rows() -> None:
    archiving = {i.code for i in at(Stage.ARCHIVING)}
    kept = {i.code for i in at(Stage.HANDOVER)}
    assert {c for c in archiving ^ kept if not c.startswith("AAP-")} == set()
