"""The register of paper archives (纸质会计档案登记): archivists register each paper volume kept
beside the electronic records — where it is, which records it relates to — so that a record
finds its paper counterpart (its drill-through lists them) and the 第八条 report finds the
evidence it asks for. 会计档案管理办法 第八条: "（三）……并建立了电子会计档案与相关联的其他纸质
会计档案的检索关系"; "（六）形成的电子会计资料不属于具有永久保存价值……的会计档案" — a 永久 record
keeps a paper copy, registered here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from archive.ports import ArchiveRecords, PaperVolumeStore, Permissions, Publisher
from contracts.envelope import new_event
from contracts.events import PaperVolumeRegistered
from contracts.roles import Action
from contracts.types import utc_now
from servicekit.auth import Person
from servicekit.database import UnitOfWork


class UnknownRecords(Exception):
    """Archive codes the register cannot relate to: none of the fonds' records has them."""


class PaperArchives:
    def __init__(
        self,
        records: ArchiveRecords,
        volumes: PaperVolumeStore,
        permissions: Permissions,
        publisher: Publisher,
        source: str,
        unit: UnitOfWork,
    ) -> None:
        self._records, self._volumes, self._permissions = records, volumes, permissions
        self._publisher, self._source, self._unit = publisher, source, unit

    async def register(
        self,
        fonds_code: str,
        fiscal_year: int,
        title: str,
        location: str,
        archive_codes: Sequence[str],
        *,
        user: Person,
    ) -> PaperVolumeRegistered:
        """An archivist of the fonds registers a paper volume and the records it relates to."""
        await self._permissions.require_fonds(user, Action.REGISTER_PAPER, fonds_code)
        found = {code: await self._records.by_code(code) for code in dict.fromkeys(archive_codes)}
        unknown = [c for c, r in found.items() if r is None or r.fonds_code != fonds_code]
        if unknown:
            raise UnknownRecords(f"no record of fonds {fonds_code} has 档号 {'、'.join(unknown)}")
        registered = PaperVolumeRegistered(
            volume_id=uuid.uuid4(),
            fonds_code=fonds_code,
            fiscal_year=fiscal_year,
            title=title,
            location=location,
            record_ids=tuple(r.record_id for r in found.values() if r is not None),
            archive_codes=tuple(found),
            registered_by=user.name,
            registered_at=utc_now(),
        )
        async with self._unit():  # the register and its announcement, together
            await self._volumes.add(registered)
            await self._publisher.publish(
                new_event(
                    registered,
                    source=self._source,
                    subject=str(registered.volume_id),
                    correlation_id=str(registered.volume_id),
                    actor=user.name,
                )
            )
        return registered

    async def drilled(self, record_id: uuid.UUID) -> dict[str, object]:
        """What a record's drill-through shows of its paper counterparts."""
        return {"paper_volumes": await self._volumes.of_record(record_id)}
