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
from contracts.envelope import Envelope
from contracts.events import RecordArchived
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
    def __init__(self, kept: dict[str, bytes], down: bool = False) -> None:
        self.kept, self.down, self.bucket = kept, down, "archive"

    async def get(self, key: str, version_id: str | None = None) -> bytes:
        if self.down:
            raise MaxRetryError(None, "/" + key, "connection refused")  # type: ignore[arg-type]
        if key not in self.kept:
            raise S3Error(None, "NoSuchKey", "gone", key, "r", "h")  # type: ignore[arg-type]
        return self.kept[key]


class Records:
    def __init__(self, r: RecordArchived) -> None:
        self.r = r

    async def get(self, record_id: uuid.UUID) -> RecordArchived | None:
        return self.r


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
