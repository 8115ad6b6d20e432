"""An original shown or handed out (利用, 第十三条). To a role (an archivist of the fonds) the
bytes as locked at archiving; to a borrower, what the approved mode allows: 查阅 — its pages
rendered on the server with the watermark, the bytes never sent (a download answers 403);
复制 — a copy marked as one. Every use is on record (``RecordsAccessed``: download, page,
copy), for the usage register."""

from __future__ import annotations

import uuid

from archive.access import require_record
from archive.domain.lifecycle import NotFound
from archive.domain.record import locked_version
from archive.domain.watermark import Copy, Page, Use, Watermark
from archive.ports import ArchiveRecords, OriginalStore, Permissions, Publisher, Renditions
from archive.reads import Reader, ReadLog
from contracts.events import RecordArchived
from contracts.records import StoredFile
from contracts.types import utc_now


class Originals:
    def __init__(
        self,
        records: ArchiveRecords,
        store: OriginalStore,
        permissions: Permissions,
        renditions: Renditions,
        publisher: Publisher,
        source: str,
    ) -> None:
        self._records = records
        self._store = store
        self._permissions = permissions
        self._renditions = renditions
        self._reads = ReadLog(publisher, source)

    async def download(self, record_id: uuid.UUID, sha256: str, reader: Reader) -> Copy:
        """By role the original as locked; under a 复制 grant a copy marked as one."""
        record, f, version, grant = await self._allowed(record_id, sha256, reader, "download")
        data = await self._store.get(f.object_key, version)
        shown = [(record_id, record.fonds_code)]
        if grant is None:
            await self._reads.read(reader, "download", shown, original_sha256=sha256)
            return Copy(f.filename, f.media_type, data)
        mark = self._mark("copy", reader, grant, record)
        copy = await self._renditions.copy(f.filename, f.media_type, data, mark)
        await self._reads.read(reader, "copy", shown, grant_id=grant, original_sha256=sha256)
        return copy

    async def page(self, record_id: uuid.UUID, sha256: str, number: int, reader: Reader) -> Page:
        """Page ``number`` of the original, rendered and watermarked: for whoever may read the
        record (查阅 or more, or a role)."""
        record, f, version, grant = await self._allowed(record_id, sha256, reader, "read")
        data = await self._store.get(f.object_key, version)
        mark = self._mark("page", reader, grant, record)
        page = await self._renditions.page(f.media_type, data, number, mark)
        shown = [(record_id, record.fonds_code)]
        await self._reads.read(reader, "page", shown, grant_id=grant, original_sha256=sha256)
        return page

    async def _allowed(
        self, record_id: uuid.UUID, sha256: str, reader: Reader, action: str
    ) -> tuple[RecordArchived, StoredFile, str | None, uuid.UUID | None]:
        """The record, its original, the object version locked at archiving, and the grant
        the action is allowed under (None: a role)."""
        found = await self._records.get_locked(record_id)
        f = next((f for f in found[0].originals if f.sha256 == sha256), None) if found else None
        missing = f"record {record_id} has no original {sha256}"
        if found is None or f is None:
            raise NotFound(missing)
        grant = await require_record(self._permissions, reader, action, record_id, missing)
        return found[0], f, locked_version(found[1], f), grant

    @staticmethod
    def _mark(use: Use, reader: Reader, grant: uuid.UUID | None, r: RecordArchived) -> Watermark:
        return Watermark(use, reader.name, utc_now(), grant, r.archive_code)
