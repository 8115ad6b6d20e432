"""Records the platform makes itself rather than receives from intake — an OA's approval form,
a handover's 移交清册 — kept the way every record is: their files as originals in the record's
package folder, the package written under the record's lock, read back (3-2), indexed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Literal

from archive.domain.package import package_documents
from archive.domain.record import object_lock
from archive.ports import MadeRecords, OriginalStore, RecordIndex
from contracts.events import RecordArchived
from contracts.fixity import digest
from contracts.records import StoredFile

Role = Literal["attachment", "source_export"]
File = tuple[str, Role, str, bytes]  # filename, role, media type, bytes


async def keep_made_record(
    files: Sequence[File],
    code: str,
    described: Callable[[tuple[StoredFile, ...]], RecordArchived],
    at: datetime,
    *,
    store: OriginalStore,
    records: MadeRecords,
    index: RecordIndex,
) -> RecordArchived:
    """Store ``files`` as the originals of record ``code`` (``described`` makes the record from
    them), locked as its retention says from ``at``; the record as kept."""
    originals, writes = [], []
    for n, (name, role, media_type, data) in enumerate(files, 1):
        digests, key = digest(data), f"{code}/originals/{n:02d}-{name}"
        writes.append((key, data, media_type))
        originals.append(
            StoredFile(
                role=role,
                filename=name,
                media_type=media_type,
                size=len(data),
                bucket=store.bucket,
                object_key=key,
                sha256=digests.sha256,
                sm3=digests.sm3,
            )
        )
    record = described(tuple(originals))
    lock = object_lock(record.retention, record.retention_until, at, record.fiscal_year)
    versions: dict[str, str | None] = {}  # what every read names, as written now
    for key, data, media_type in [*writes, *package_documents(record)]:
        versions[key] = await store.put_locked(
            key, data, media_type, until=lock.until, legal_hold=lock.legal_hold
        )
    record = await records.add(record, versions)
    if await records.get(record.record_id) != record:  # 3-2
        raise ConnectionError(f"record {record.record_id} does not read back as written")
    await index.add(record)
    return record
