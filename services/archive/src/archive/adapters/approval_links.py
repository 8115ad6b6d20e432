"""Archive's own database: OA approval records' data, the business keys vouchers and approval
records meet by, the links made, and the vouchers waiting for theirs.

Every lookup is by ``_id`` (the local FerretDB indexes no other field): a key's side is one
document, ``<key>|<side>``, inserted by the first record and added to by any other."""

from __future__ import annotations

import uuid
from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from archive.domain.approval_record import Waiting
from contracts.events import ApprovalRecordLinked, OaApprovalCompleted
from servicekit.mongo import Document


class ApprovalLinksStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._approvals = db["approval_records"]
        self._keys = db["approval_link_keys"]
        self._links = db["approval_links"]
        self._waiting = db["awaiting_approval"]

    async def keep_approval(self, record_id: uuid.UUID, approval: OaApprovalCompleted) -> None:
        await self._approvals.update_one(
            {"_id": str(record_id)},
            {"$setOnInsert": {"approval": approval.model_dump_json()}},
            upsert=True,
        )

    async def approval(self, record_id: uuid.UUID) -> OaApprovalCompleted | None:
        doc = await self._approvals.find_one({"_id": str(record_id)})
        return OaApprovalCompleted.model_validate_json(doc["approval"]) if doc else None

    async def meet(self, key: str, side: str, record_id: uuid.UUID, other: str) -> list[uuid.UUID]:
        mine = str(record_id)
        try:
            await self._keys.insert_one({"_id": f"{key}|{side}", "records": [mine]})
        except DuplicateKeyError:  # another record holds the key on this side too: rare
            await self._keys.update_one({"_id": f"{key}|{side}"}, {"$addToSet": {"records": mine}})
        found = await self._keys.find_one({"_id": f"{key}|{other}"})
        return [uuid.UUID(r) for r in (found or {}).get("records", [])]

    async def link(self, link: ApprovalRecordLinked) -> None:
        entry = link.model_dump(mode="json")
        pair = f"{link.voucher_record_id}|{link.approval_record_id}"
        for record_id in (link.voucher_record_id, link.approval_record_id):
            try:
                await self._links.insert_one(
                    {"_id": str(record_id), "links": [entry], "pairs": [pair]}
                )
            except DuplicateKeyError:
                await self._links.update_one(
                    {"_id": str(record_id), "pairs": {"$ne": pair}},
                    {"$push": {"links": entry, "pairs": pair}},
                )

    async def links_of(self, record_id: uuid.UUID) -> list[ApprovalRecordLinked]:
        doc = await self._links.find_one({"_id": str(record_id)})
        return [ApprovalRecordLinked.model_validate(e) for e in (doc or {}).get("links", [])]

    async def await_approval(self, waiting: Waiting) -> None:
        await self._waiting.update_one(
            {"_id": str(waiting.record_id)},
            {
                "$setOnInsert": {
                    "fonds_code": waiting.fonds_code,
                    "archive_code": waiting.archive_code,
                    "voucher_no": waiting.voucher_no,
                    "summary": waiting.summary,
                    "since": waiting.since.isoformat(),
                }
            },
            upsert=True,
        )

    async def arrived(self, voucher_id: uuid.UUID) -> None:
        await self._waiting.delete_one({"_id": str(voucher_id)})

    async def waiting(self, fonds_code: str) -> list[Waiting]:
        cursor = self._waiting.find({"fonds_code": fonds_code}).sort("archive_code", 1)
        return [
            Waiting(
                record_id=uuid.UUID(d["_id"]),
                fonds_code=d["fonds_code"],
                archive_code=d["archive_code"],
                voucher_no=d["voucher_no"],
                summary=d["summary"],
                since=datetime.fromisoformat(d["since"]),
            )
            async for d in cursor
        ]
