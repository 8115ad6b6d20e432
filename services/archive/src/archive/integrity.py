"""Integrity of what the archive keeps: the storage check table run again over records, on
demand, before a handover and on a schedule; every finding an IntegrityAlertRaised."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace

import structlog

from archive.access import require_record
from archive.domain.archive_code import ArchiveCodeRule
from archive.domain.completeness import Completeness
from archive.domain.lifecycle import NotFound
from archive.domain.recheck import (
    OF_THE_YEAR,
    Finding,
    Lock,
    Stored,
    archived_versions,
    object_keys,
    recheck,
)
from archive.ports import ArchiveRecords, OriginalStore, Permissions, Publisher, VirusScanner
from contracts.checks import Stage
from contracts.envelope import new_event
from contracts.events import IntegrityAlertRaised, RecordArchived
from contracts.records import CheckResult
from contracts.types import utc_now
from servicekit.auth import Person
from servicekit.clamd import ScanUnavailable
from servicekit.s3 import MISSING

log = structlog.get_logger()

# Re-checks run this many at a time: a year's handover or the sweep waits on the object store,
# not on this process, so overlapping them shortens it without loading either side much.
RECHECKS_AT_ONCE = 8


@dataclass(frozen=True)
class Surroundings:
    """What the re-check asks besides the record and its objects, each optional: a virus
    scanner (4-1, 4-2), a reader in the worker pool (3-4: media type and bytes → why it cannot
    be read), the year's completeness (2-6) and which years are still with the accounting
    department (fonds → their fiscal years)."""

    scanner: VirusScanner | None = None
    unreadable: Callable[[str, bytes], Awaitable[str | None]] | None = None
    year: Callable[[str, int], Awaitable[Completeness]] | None = None
    in_accounting_custody: Callable[[str], Awaitable[Iterable[int]]] | None = None


# Before its handover a year grows voucher by voucher: a gap then is the completeness report's
# to name, not an alert about each record beside it.
STILL_GROWING = (
    "its year is still with the accounting department (临时保管): the numbering is checked when "
    "the year is handed over, and GET /v1/completeness names its gaps until then"
)


class IntegrityService:
    def __init__(
        self,
        records: ArchiveRecords,
        store: OriginalStore,
        publisher: Publisher,
        permissions: Permissions,
        rule: ArchiveCodeRule,
        source: str,
        around: Surroundings = Surroundings(),
    ) -> None:
        self._records = records
        self._store = store
        self._publisher = publisher
        self._permissions = permissions
        self._rule = rule
        self._source = source
        self._around = around

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

    async def recheck(
        self,
        record_id: uuid.UUID,
        stage: Stage = Stage.PRESERVATION,
        years: dict[tuple[str, int], Completeness] | None = None,
    ) -> tuple[list[CheckResult], list[Finding]]:
        """Run the stage's check table over a record as kept now, each object read at the
        version archived, against the record as archived; alert on every finding (a version
        put over one among them). ``years`` keeps the years' completeness across the records
        of one run (a handover, a batch of the sweep), each year asked once."""
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
        stored = Stored(record, objects, self._rule, later, listed=sorted(listed))
        stored = await self._around_it(stored, archived, stage, {} if years is None else years)
        report, findings = recheck(stored, stage)
        for finding in (f for f in findings if f.item not in OF_THE_YEAR):
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

    async def _around_it(
        self,
        stored: Stored,
        archived: dict[str, str | None],
        stage: Stage,
        years: dict[tuple[str, int], Completeness],
    ) -> Stored:
        """The record with what the re-check learns around it: scans, readability, locks and
        the numbering of its period, each where the service has the means to ask."""
        r = stored.record
        present = [
            (f.object_key, f.media_type, data)
            for f in r.originals
            if (data := stored.objects.get(f.object_key))
        ]
        scanner, scans = await self._scans([(key, data) for key, _, data in present])
        unreadable: dict[str, str] = {}
        if self._around.unreadable is not None:
            reads = await asyncio.gather(
                *(self._around.unreadable(media_type, data) for _, media_type, data in present)
            )
            unreadable = {key: why for (key, _, _), why in zip(present, reads, strict=True) if why}
        gaps, why = await self._numbering_gaps(r, stage, years)
        held = [f.object_key for f in r.originals if stored.objects.get(f.object_key) is not None]
        found = await asyncio.gather(*(self._store.lock(k, archived.get(k)) for k in held))
        locks = {key: Lock(*lock) for key, lock in zip(held, found, strict=True)}
        return replace(
            stored,
            scanner=scanner,
            scans=scans,
            unreadable=unreadable,
            locks=locks,
            numbering_gaps=gaps,
            numbering_unasked=why or stored.numbering_unasked,
            now=utc_now(),
        )

    async def _scans(
        self, present: list[tuple[str, bytes]]
    ) -> tuple[str | None, dict[str, str | None]]:
        """The scanner that answered and what it found per key; (None, {}) without one (or
        with one that does not answer: 4-1 and 4-2 are then not performed, and say so)."""
        if self._around.scanner is None:
            return None, {}
        try:
            version = await self._around.scanner.version()
            found = [await self._around.scanner.scan(data) for _, data in present]
        except ScanUnavailable as error:
            log.warning("virus scanner unavailable for the re-check", error=str(error))
            return None, {}
        return version, {key: f for (key, _), f in zip(present, found, strict=True)}

    async def _numbering_gaps(
        self, r: RecordArchived, stage: Stage, years: dict[tuple[str, int], Completeness]
    ) -> tuple[list[str] | None, str | None]:
        """The open gaps of the voucher's numbering, or why they were not asked."""
        if self._around.year is None or r.voucher is None or r.period is None:
            return None, None
        custody = self._around.in_accounting_custody
        if (
            stage is Stage.PRESERVATION
            and custody is not None
            and r.fiscal_year in await custody(r.fonds_code)
        ):
            return None, STILL_GROWING
        key = (r.fonds_code, r.fiscal_year)
        if key not in years:
            years[key] = await self._around.year(*key)
        gaps = years[key].numbering_gaps(r.period, r.voucher.voucher_no)
        return [g.missing for g in gaps], None

    async def _read(self, key: str, version: str | None) -> bytes | None:
        """The object's archived version, None if it is not there. An object store that does
        not answer raises: an outage is no finding about a record."""
        try:
            return await self._store.get(key, version)
        except Exception as error:
            if getattr(error, "code", None) in MISSING:
                return None
            raise

    async def findings_of(
        self, record_ids: Iterable[uuid.UUID], stage: Stage = Stage.PRESERVATION
    ) -> dict[uuid.UUID, list[Finding]]:
        """Re-check many records, RECHECKS_AT_ONCE at a time; each one's findings about itself
        (those of its year, ``OF_THE_YEAR``, are the completeness report's)."""
        limit = asyncio.Semaphore(RECHECKS_AT_ONCE)
        years: dict[tuple[str, int], Completeness] = {}

        async def one(record_id: uuid.UUID) -> tuple[uuid.UUID, list[Finding]]:
            async with limit:
                _, found = await self.recheck(record_id, stage, years)
                return record_id, [f for f in found if f.item not in OF_THE_YEAR]

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
