"""Re-checks of what the archive keeps: a missing original is a finding; an outage is not."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from minio.error import S3Error
from urllib3.exceptions import MaxRetryError

from archive.domain.archive_code import ArchiveCodeRule
from archive.domain.package import package_documents
from archive.domain.record import archive, placement
from archive.integrity import IntegrityService
from contracts.checks import Stage
from contracts.envelope import Envelope
from contracts.events import RecordArchived
from contracts.records import CheckOutcome
from devkit.samples import ingested_document, stored_file

RULE = ArchiveCodeRule()
SCAN = b"%PDF-1.4\n" + b"x" * 100


def record() -> RecordArchived:
    doc = ingested_document(
        [
            stored_file("voucher", "v.json", "application/json", b"{}"),
            stored_file("attachment", "scan.pdf", "application/pdf", SCAN),
        ]
    )
    return archive(doc, placement(doc, RULE), 1, RULE, bucket="archive", at=datetime.now(UTC))


class Store:
    """A versioned bucket: a put over a key adds a version ("v1", "v2", …); a read names one,
    or gets the latest."""

    def __init__(self, kept: dict[str, bytes], down: bool = False) -> None:
        self.kept = {key: [data] for key, data in kept.items()}
        self.down, self.bucket = down, "archive"

    def put_over(self, key: str, data: bytes) -> None:
        self.kept[key].append(data)

    async def get(self, key: str, version_id: str | None = None) -> bytes:
        if self.down:
            raise MaxRetryError(None, "/" + key, "connection refused")  # type: ignore[arg-type]
        if key not in self.kept:
            raise S3Error(None, "NoSuchKey", "gone", key, "r", "h")  # type: ignore[arg-type]
        versions = self.kept[key]
        return versions[int(version_id[1:]) - 1] if version_id else versions[-1]

    async def lock(self, key: str, version_id: str | None) -> tuple[datetime | None, bool]:
        return datetime(2056, 1, 1, tzinfo=UTC), False  # as accession locked it

    async def versions(self, prefix: str) -> dict[str, list[str]]:
        if self.down:
            raise MaxRetryError(None, "/" + prefix, "connection refused")  # type: ignore[arg-type]
        return {
            key: [f"v{n}" for n in range(1, len(v) + 1)]
            for key, v in sorted(self.kept.items())
            if key.startswith(prefix)
        }


class Records:
    """The record, and the versions recorded at accession: the first of each key."""

    def __init__(self, r: RecordArchived) -> None:
        self.r = r

    async def get(self, record_id: uuid.UUID) -> RecordArchived | None:
        return self.r

    async def as_archived(
        self, record_id: uuid.UUID
    ) -> tuple[RecordArchived, dict[str, str | None]] | None:
        return self.r, {f.object_key: "v1" for f in self.r.originals}


class Published:
    def __init__(self) -> None:
        self.events: list[Envelope[Any]] = []

    async def publish(self, event: Envelope[Any]) -> None:
        self.events.append(event)


def integrity(r: RecordArchived, store: Store) -> tuple[IntegrityService, Published]:
    published = Published()
    service = IntegrityService(Records(r), store, published, None, RULE, "/aap/archive")  # type: ignore[arg-type]
    return service, published


def kept(r: RecordArchived) -> dict[str, bytes]:
    voucher, scan = r.originals
    return {voucher.object_key: b"{}", scan.object_key: SCAN} | {
        key: data for key, data, _ in package_documents(r)
    }


async def test_a_missing_original_is_found_and_alerted() -> None:
    r = record()
    objects = kept(r)
    del objects[r.originals[1].object_key]
    service, published = integrity(r, Store(objects))
    _, findings = await service.recheck(r.record_id)
    assert [(f.item.code, f.filename) for f in findings] == [("1-11", "scan.pdf")]
    assert len(published.events) == 1


async def test_an_object_store_that_does_not_answer_raises_no_alert() -> None:
    r = record()
    service, published = integrity(r, Store(kept(r), down=True))
    with pytest.raises(MaxRetryError):  # a 503 to the caller; the sweep tries again next time
        await service.recheck(r.record_id)
    assert published.events == []


async def test_a_version_put_over_an_archived_object_is_never_read_and_is_alerted() -> None:
    """Once, the archive's S3 user put a new version over an archived original: a plain read
    then served the forged bytes, and the re-check read them too and blamed 1-1. Now every read
    names the archived version, and the version put over it is the finding."""
    r = record()
    store = Store(kept(r))
    scan, metadata = r.originals[1].object_key, package_documents(r)[0][0]
    store.put_over(scan, b"%PDF-1.4 forged")
    store.put_over(metadata, b"<forged/>")  # the package: archived before versions were kept
    service, published = integrity(r, store)
    report, findings = await service.recheck(r.record_id)
    failed = {c.code for c in report if c.outcome.value == "failed"}
    assert failed == {"1-11"}  # 1-1 and the package check read the archived versions: intact
    assert sorted((f.filename, f.object_key) for f in findings) == [
        ("metadata.xml", metadata),
        ("scan.pdf", scan),
    ]
    assert all("a later version was put over the archived one (v2)" in f.detail for f in findings)
    assert len(published.events) == 2


async def test_a_gap_in_the_numbering_is_reported_never_alerted() -> None:
    """2-6 is the year's: the record's re-check names the gap, the integrity alert (damage to a
    record) is not raised for it, and a handover counts it once, as the year's."""
    from archive.domain.completeness import Completeness, Gap
    from archive.integrity import Surroundings

    r = record()
    gap = Gap("2025-03/numbering/记/2-3", 3, "记 numbers 0002–0003 are missing (断号)", "DA/T 70")

    async def year(fonds: str, fiscal_year: int) -> Completeness:
        return Completeness(fonds, fiscal_year, (3,), (gap,))

    published = Published()
    service = IntegrityService(
        Records(r), Store(kept(r)), published, None, RULE, "/aap/archive",  # type: ignore[arg-type]
        Surroundings(year=year),
    )  # fmt: skip
    report, findings = await service.recheck(r.record_id, Stage.HANDOVER)
    numbering = next(c for c in report if c.code == "2-6")
    assert numbering.outcome is CheckOutcome.FAILED and gap.missing in numbering.detail
    assert [f.item.code for f in findings] == ["2-6"]
    assert published.events == []
    assert await service.findings_of([r.record_id], Stage.HANDOVER) == {r.record_id: []}

    async def still_with_accounting(fonds: str) -> list[int]:
        return [2025]

    service = IntegrityService(
        Records(r), Store(kept(r)), published, None, RULE, "/aap/archive",  # type: ignore[arg-type]
        Surroundings(year=year, in_accounting_custody=still_with_accounting),
    )  # fmt: skip
    report, _ = await service.recheck(r.record_id, Stage.PRESERVATION)
    numbering = next(c for c in report if c.code == "2-6")
    assert numbering.outcome is CheckOutcome.NOT_PERFORMED and "临时保管" in numbering.detail
