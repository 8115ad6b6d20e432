"""Archive's use case for fixed-asset cards: recording an asset's disposal (报废清理), after which
its card is kept five years from the end of the disposal's year and its hold is released."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

from archive.access import require_record
from archive.domain.assets import disposed
from archive.domain.lifecycle import NotFound
from archive.domain.record import object_lock
from archive.ports import HoldStore, OriginalStore, Permissions, Publisher, RecordStore
from contracts.envelope import derived_event_id, new_event
from contracts.events import AssetDisposalRecorded, RecordArchived
from contracts.roles import Action
from contracts.types import utc_now
from servicekit.auth import Person
from servicekit.database import UnitOfWork


class AssetService:
    def __init__(
        self,
        records: RecordStore,
        holds: HoldStore,
        store: OriginalStore,
        publisher: Publisher,
        permissions: Permissions,
        source: str,
        unit: UnitOfWork,
        today: Callable[[], date] = lambda: utc_now().date(),
    ) -> None:
        self._records = records
        self._holds = holds
        self._store = store
        self._publisher = publisher
        self._permissions = permissions
        self._source = source
        self._unit = unit
        self._today = today

    async def record_disposal(
        self, record_id: uuid.UUID, on: date, user: Person
    ) -> AssetDisposalRecorded:
        """An archivist records that the card's asset was disposed of on ``on``: each kept
        version is locked (COMPLIANCE) to the card's new last day, then its hold released
        (unless a hold of 第十九条 keeps it). Recording the same date again repeats what is
        left undone and answers the same fact."""
        found = await self._records.get_locked(record_id)
        if found is None:
            raise NotFound(f"no archive record {record_id}")
        await require_record(
            self._permissions, user, Action.HOLD, record_id, f"no archive record {record_id}"
        )
        card, versions = found
        kept = disposed(card, on, self._today())
        assert kept.retention_until is not None and kept.material is not None
        lock = object_lock(kept.retention, kept.retention_until, utc_now(), kept.fiscal_year)
        if lock.until is not None:  # the protection first: never less locked than the records say
            for key, version in versions.items():
                await self._store.set_retention(key, version, lock.until)
        fact = self._fact(kept, user)
        async with self._unit():
            if await self._records.record_disposal(kept):
                await self._publisher.publish(
                    new_event(
                        fact,
                        source=self._source,
                        subject=str(record_id),
                        correlation_id=str(uuid.uuid4()),
                        actor=user.name,
                        event_id=derived_event_id(record_id, AssetDisposalRecorded),
                    )
                )
        _, hold = await self._holds.current(record_id)
        if hold is None:  # a hold of 第十九条 outlasts the disposal
            for key, version in versions.items():
                await self._store.set_legal_hold(key, version, False)
        return fact

    def _fact(self, card: RecordArchived, user: Person) -> AssetDisposalRecorded:
        assert card.material is not None and card.material.asset_no is not None
        assert card.material.disposed_on is not None and card.retention_until is not None
        return AssetDisposalRecorded(
            record_id=card.record_id,
            archive_code=card.archive_code,
            asset_no=card.material.asset_no,
            disposed_on=card.material.disposed_on,
            retention_until=card.retention_until,
            recorded_by=user.name,
            recorded_at=utc_now(),
        )
