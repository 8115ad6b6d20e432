"""Archive's own database, the handover part: open marks, started handovers, record claims, bound
volumes and custody extensions.

Two guarantees rest on unique keys, the one atomic check-and-write the database offers (it has
no multi-document transactions, and FerretDB's conditional updates are not atomic):
- one handover of a fonds and year under way at once: the open mark, keyed by fonds and year,
  is taken *before* the records are read, so two requests can never hand over the same reading;
- a record in at most one handover: each record is claimed under its own id.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import timedelta

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from archive.domain.lifecycle import HandoverOffer, HandoverRefused
from archive.domain.volumes import BoundVolume
from contracts.events import RecordsHandedOver
from contracts.types import utc_now
from servicekit.mongo import Document


def _scope(fonds_code: str, fiscal_year: int) -> str:
    return f"{fonds_code}|{fiscal_year}"


class Handovers:
    def __init__(self, db: AsyncDatabase[Document], mark_lease: timedelta) -> None:
        """``mark_lease``: how long an open mark with no handover kept under it holds; past it,
        the mark is taken to be left by a crashed process and may be taken over."""
        self._handovers = db["handovers"]
        self._open = db["open_handovers"]
        self._takeovers = db["handover_takeovers"]
        self._claims = db["handover_claims"]
        self._volumes = db["volumes"]
        self._extensions = db["custody_extensions"]
        self._offers = db["handover_offers"]
        self._lease = mark_lease

    async def open(self, fonds_code: str, fiscal_year: int, handover_id: uuid.UUID) -> None:
        scope = _scope(fonds_code, fiscal_year)
        mark = {"_id": scope, "handover": str(handover_id), "taken_at": utc_now()}
        try:
            await self._open.insert_one(mark)
            return
        except DuplicateKeyError:
            held = await self._open.find_one({"_id": scope})
        if held is not None and not await self._abandoned(held):
            raise HandoverRefused(f"a handover of {scope} is already under way")
        if held is not None:
            # Of the takers of an abandoned mark, the one whose takeover note gets in removes
            # it; the others are refused. (A conditional delete alone is not enough: FerretDB
            # finds, then deletes by _id, so a late taker could remove the winner's new mark.)
            takeover = {"_id": f"{scope}|taken-over|{held['handover']}", "by": str(handover_id)}
            try:
                await self._takeovers.insert_one(takeover)
            except DuplicateKeyError as error:
                raise HandoverRefused(f"a handover of {scope} is already under way") from error
            await self._open.delete_one({"_id": scope, "handover": held["handover"]})
        try:
            await self._open.insert_one(mark)
        except DuplicateKeyError as error:
            raise HandoverRefused(f"a handover of {scope} is already under way") from error

    async def _abandoned(self, mark: Document) -> bool:
        """Past its lease with no handover kept under it: its process died before starting."""
        if mark["taken_at"] > utc_now() - self._lease:
            return False
        kept = await self._handovers.find_one({"_id": mark["handover"]}, projection={"done": 1})
        return kept is None or bool(kept["done"])

    async def close(self, fonds_code: str, fiscal_year: int, handover_id: uuid.UUID) -> None:
        scope = _scope(fonds_code, fiscal_year)
        await self._open.delete_one({"_id": scope, "handover": str(handover_id)})

    async def start(self, handover: RecordsHandedOver, volumes: list[BoundVolume]) -> None:
        """Kept before any of it is applied: a crash midway leaves it to be completed as it was
        started. Then each record is claimed for it."""
        await self._handovers.insert_one(
            {
                "_id": str(handover.handover_id),
                "fonds_code": handover.fonds_code,
                "fiscal_year": handover.fiscal_year,
                "event": handover.model_dump_json(),
                "volumes": [asdict(v) for v in volumes],
                "done": False,
            }
        )
        try:
            await self.claim(handover)
        except HandoverRefused:
            await self._claims.delete_many({"handover": str(handover.handover_id)})
            await self._handovers.delete_one({"_id": str(handover.handover_id)})
            raise

    async def claim(self, handover: RecordsHandedOver) -> None:
        """Claim every record of ``handover`` for it; repeat-safe. HandoverRefused naming the
        first record another handover holds."""
        mine = str(handover.handover_id)
        for record_id in handover.record_ids:
            try:
                await self._claims.insert_one({"_id": str(record_id), "handover": mine})
            except DuplicateKeyError as error:
                held = await self._claims.find_one({"_id": str(record_id)})
                if held is not None and held["handover"] != mine:
                    raise HandoverRefused(
                        f"record {record_id} is already in handover {held['handover']}"
                    ) from error

    async def unfinished(
        self, fonds_code: str | None = None, fiscal_year: int | None = None
    ) -> list[tuple[RecordsHandedOver, list[BoundVolume]]]:
        query: Document = {"done": False}
        if fonds_code is not None:
            query |= {"fonds_code": fonds_code, "fiscal_year": fiscal_year}
        return [
            (
                RecordsHandedOver.model_validate_json(d["event"]),
                [BoundVolume(**(v | {"record_ids": tuple(v["record_ids"])})) for v in d["volumes"]],
            )
            async for d in self._handovers.find(query)
        ]

    async def bind(self, handover: RecordsHandedOver, volumes: list[BoundVolume]) -> None:
        """Bind the handover's volumes under their numbers; repeat-safe. A number bound by
        another handover is a conflict, never silently shared."""
        for v in volumes:
            key = f"{handover.fonds_code}|{v.fiscal_year}|{v.number}"
            try:
                await self._volumes.insert_one(
                    {
                        "_id": key,
                        "fonds_code": handover.fonds_code,
                        "fiscal_year": v.fiscal_year,
                        "number": v.number,
                        "period": v.period,
                        "retention_code": v.retention_code,
                        "records": list(v.record_ids),
                        "handover_id": str(handover.handover_id),
                    }
                )
            except DuplicateKeyError as error:
                bound = await self._volumes.find_one({"_id": key}, projection={"handover_id": 1})
                if bound is None or bound["handover_id"] != str(handover.handover_id):
                    raise HandoverRefused(f"volume {key} is bound by another handover") from error

    async def finish(self, handover: RecordsHandedOver) -> None:
        await self._handovers.update_one(
            {"_id": str(handover.handover_id)}, {"$set": {"done": True}}
        )
        await self.close(handover.fonds_code, handover.fiscal_year, handover.handover_id)

    async def bound_volumes(self, fonds_code: str, fiscal_year: int) -> list[BoundVolume]:
        cursor = self._volumes.find({"fonds_code": fonds_code, "fiscal_year": fiscal_year})
        return [
            BoundVolume(
                d["number"], d["fiscal_year"], d["period"], d["retention_code"], tuple(d["records"])
            )
            async for d in cursor
        ]

    async def custody_extensions(self, fonds_code: str) -> dict[int, int]:
        """Fiscal year → years of temporary custody consented beyond the first."""
        cursor = self._extensions.find({"fonds_code": fonds_code})
        return {int(d["fiscal_year"]): int(d["extended_years"]) async for d in cursor}

    async def extend_custody(self, extension: Document) -> None:
        """Record a consent; the latest one for a fonds and year is the one that counts."""
        key = _scope(extension["fonds_code"], extension["fiscal_year"])
        await self._extensions.replace_one({"_id": key}, extension, upsert=True)

    async def offer(self, offer: HandoverOffer) -> HandoverOffer:
        scope = {"fonds_code": offer.fonds_code, "fiscal_year": offer.fiscal_year}
        if (found := await self._offers.find_one({**scope, "handover_id": None})) is not None:
            return _offer(found)
        await self._offers.insert_one(
            {
                "_id": str(offer.offer_id),
                **scope,
                "offered_by": offer.offered_by,
                "offered_at": offer.offered_at,
                "handover_id": None,
            }
        )
        return offer

    async def offer_of(self, offer_id: uuid.UUID) -> HandoverOffer | None:
        found = await self._offers.find_one({"_id": str(offer_id)})
        return _offer(found) if found else None

    async def accepted(self, offer_id: uuid.UUID, handover_id: uuid.UUID) -> None:
        await self._offers.update_one(
            {"_id": str(offer_id)}, {"$set": {"handover_id": str(handover_id)}}
        )


def _offer(d: Document) -> HandoverOffer:
    return HandoverOffer(
        offer_id=uuid.UUID(d["_id"]),
        fonds_code=d["fonds_code"],
        fiscal_year=d["fiscal_year"],
        offered_by=d["offered_by"],
        offered_at=d["offered_at"],
        handover_id=uuid.UUID(d["handover_id"]) if d["handover_id"] else None,
    )
