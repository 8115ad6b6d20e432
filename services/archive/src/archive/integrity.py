"""Integrity of what the archive keeps: the storage check table run again over records, on
demand, before a handover and on a schedule; every finding an IntegrityAlertRaised."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable

import structlog

from archive.access import require_record
from archive.domain.archive_code import ArchiveCodeRule
from archive.domain.lifecycle import NotFound
from archive.domain.recheck import Finding, Stored, archived_versions, object_keys, recheck
from archive.ports import ArchiveRecords, OriginalStore, Permissions, Publisher
from contracts.envelope import new_event
from contracts.events import IntegrityAlertRaised
from contracts.records import CheckResult
from contracts.types import utc_now
from servicekit.auth import Person
from servicekit.s3 import MISSING

log = structlog.get_logger()

# Re-checks run this many at a time: a year's handover or the sweep waits on the object store,
# not on this process, so overlapping them shortens it without loading either side much.
RECHECKS_AT_ONCE = 8


class IntegrityService:
    def __init__(
        self,
        records: ArchiveRecords,
        store: OriginalStore,
        publisher: Publisher,
        permissions: Permissions,
        rule: ArchiveCodeRule,
        source: str,
    ) -> None:
        self._records = records
        self._store = store
        self._publisher = publisher
        self._permissions = permissions
        self._rule = rule
        self._source = source

    async def recheck_for(
        self, record_id: uuid.UUID, user: Person
    ) -> tuple[list[CheckResult], list[Finding]]:
        """A re-check asked for by ``user``, who must be allowed to read the record."""
        if await self._records.get(record_id) is None:
            raise NotFound(f"no archive record {record_id}")
        await require_record(
            self._permissions, user, "read", record_id, f"no archive record {record_id}"
        )
        return await self.recheck(record_id)

    async def recheck(self, record_id: uuid.UUID) -> tuple[list[CheckResult], list[Finding]]:
        """Run the storage check table over a record as kept now, each object read at the
        version archived, against the record as archived; alert on every finding (a version
        put over one among them)."""
        found = await self._records.as_archived(record_id)
        if found is None:
            raise NotFound(f"no archive record {record_id}")
        record, recorded = found
        listed = await self._store.versions(f"{record.archive_code}/")
        archived = archived_versions(record, recorded, listed)
        keys = object_keys(record)
        read = await asyncio.gather(*(self._read(k, archived.get(k)) for k in keys))
        later = {
            key: [v for v in versions if v != archived.get(key)]
            for key, versions in listed.items()
            if key in archived and len(versions) > 1
        }
        objects = dict(zip(keys, read, strict=True))
        report, findings = recheck(Stored(record, objects, self._rule, later))
        for finding in findings:
            alert = IntegrityAlertRaised(
                record_id=record_id,
                archive_code=record.archive_code,
                filename=finding.filename,
                object_key=finding.object_key,
                expected_sha256=finding.expected_sha256,
                found_sha256=finding.found_sha256,
                detail=finding.detail,
                detected_at=utc_now(),
                check_code=finding.item.code,
            )
            await self._publisher.publish(
                new_event(
                    alert,
                    source=self._source,
                    subject=str(record_id),
                    correlation_id=str(uuid.uuid4()),
                    actor="recheck",
                )
            )
            log.error(
                "integrity alert",
                record_id=str(record_id),
                check=finding.item.code,
                file=finding.filename,
                detail=finding.detail,
            )
        return report, findings

    async def _read(self, key: str, version: str | None) -> bytes | None:
        """The object's archived version, None if it is not there. An object store that does
        not answer raises: an outage is no finding about a record."""
        try:
            return await self._store.get(key, version)
        except Exception as error:
            if getattr(error, "code", None) in MISSING:
                return None
            raise

    async def findings_of(self, record_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Finding]]:
        """Re-check many records, RECHECKS_AT_ONCE at a time; each one's findings."""
        limit = asyncio.Semaphore(RECHECKS_AT_ONCE)

        async def one(record_id: uuid.UUID) -> tuple[uuid.UUID, list[Finding]]:
            async with limit:
                return record_id, (await self.recheck(record_id))[1]

        return dict(await asyncio.gather(*map(one, record_ids)))

    async def recheck_all(self, batch: int = 1000) -> int:
        """The scheduled sweep: every record re-checked; the number of findings."""
        count, ids = 0, []
        async for record_id in self._records.all_ids():
            ids.append(uuid.UUID(record_id))
            if len(ids) == batch:
                count += sum(map(len, (await self.findings_of(ids)).values()))
                ids = []
        return count + sum(map(len, (await self.findings_of(ids)).values()))
