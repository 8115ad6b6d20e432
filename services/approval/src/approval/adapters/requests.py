"""Approval's own database: borrowing requests, the OA's words that changed them, the OA
instances they run as, and callback nonces seen.

A request's state changes are numbered, each stored under ``<request id>/<n>``: of two
deliveries racing to make the n-th change, the storage engine's unique key lets one win, and
the other re-reads and re-decides (only ``_id`` lookups: the local FerretDB indexes no other).
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from approval.domain.borrowing import BorrowingRequest, Decision
from approval.domain.oa_states import Outcome
from approval.vendors.events import OaInstance, Step
from contracts.events import ApprovalStep
from contracts.types import utc_now
from servicekit.mongo import Document


def _decision_doc(d: Decision, number: int) -> Document:
    return {
        "_id": f"{d.request_id}/{number}",
        "oa_connection": d.oa_connection,
        "outcome": d.outcome.value,
        "approver": d.approver,
        "comment": d.comment,
        "oa_instance_id": d.oa_instance_id,
        "decided_at": d.decided_at,
        "trail": [s.model_dump(mode="json") for s in d.trail],
    }


def _decision(request_id: uuid.UUID, doc: Document) -> Decision:
    return Decision(
        request_id=request_id,
        oa_connection=doc["oa_connection"],
        outcome=Outcome(doc["outcome"]),
        approver=doc["approver"],
        comment=doc["comment"],
        oa_instance_id=doc["oa_instance_id"],
        decided_at=doc["decided_at"],
        trail=tuple(ApprovalStep.model_validate(s) for s in doc.get("trail", [])),
    )


def _request(doc: Document) -> BorrowingRequest:
    return BorrowingRequest(
        request_id=uuid.UUID(doc["_id"]),
        applicant=doc["applicant"],
        fonds_code=doc["fonds_code"],
        oa_connection=doc["oa_connection"],
        record_ids=tuple(uuid.UUID(x) for x in doc["record_ids"]),
        reason=doc["reason"],
        days=doc["days"],
        requested_at=doc["requested_at"],
        oa_instance_id=doc.get("oa_instance_id"),
        oa_unreachable=doc.get("oa_unreachable"),
    )


class Requests:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._requests = db["borrowing_requests"]
        self._changes = db["request_changes"]
        self._instances = db["oa_instances"]
        self._starts = db["oa_starts"]  # requests whose OA is to be asked again: a few at most
        self._open = db["open_requests"]  # requests not decided yet, for the expiry sweep

    async def ensure_indexes(self) -> None:
        await self._requests.create_index([("applicant", 1), ("requested_at", -1)])

    async def add(self, r: BorrowingRequest) -> None:
        await self._requests.insert_one(
            {
                "_id": str(r.request_id),
                "applicant": r.applicant,
                "fonds_code": r.fonds_code,
                "oa_connection": r.oa_connection,
                "record_ids": [str(x) for x in r.record_ids],
                "reason": r.reason,
                "days": r.days,
                "requested_at": r.requested_at,
            }
        )
        await self._open.insert_one({"_id": str(r.request_id), "requested_at": r.requested_at})

    async def open_before(self, cutoff: datetime) -> list[uuid.UUID]:
        due = self._open.find({"requested_at": {"$lt": cutoff}})
        return [uuid.UUID(d["_id"]) async for d in due]

    async def closed(self, request_id: uuid.UUID) -> None:
        await self._open.delete_one({"_id": str(request_id)})

    async def get(self, request_id: uuid.UUID) -> BorrowingRequest | None:
        doc = await self._requests.find_one({"_id": str(request_id)})
        if doc is None:
            return None
        request = _request(doc)
        while change := await self._changes.find_one(
            {"_id": f"{request_id}/{len(request.decisions) + 1}"}
        ):
            request = request.reached(_decision(request_id, change))
        return request

    async def save_change(self, request: BorrowingRequest) -> bool:
        """Store the request's latest change as its n-th, unless another delivery stored an
        n-th first. True if this one was stored."""
        assert request.decision is not None
        try:
            await self._changes.insert_one(_decision_doc(request.decision, len(request.decisions)))
        except DuplicateKeyError:
            return False
        return True

    async def started(self, request_id: uuid.UUID, connection: str, instance: str) -> None:
        """The OA instance the request runs as (the OA's callbacks name it, not our id); the
        request no longer waits to be started."""
        await self._instances.update_one(
            {"_id": f"{connection}/{instance}"},
            {"$setOnInsert": {"request_id": str(request_id)}},
            upsert=True,
        )
        await self._requests.update_one(
            {"_id": str(request_id)},
            {"$set": {"oa_instance_id": instance}, "$unset": {"oa_unreachable": ""}},
        )
        await self._starts.delete_one({"_id": str(request_id)})

    async def start_failed(
        self, request_id: uuid.UUID, reason: str, attempts: int, retry_at: datetime
    ) -> None:
        await self._requests.update_one(
            {"_id": str(request_id)}, {"$set": {"oa_unreachable": reason}}
        )
        await self._starts.replace_one(
            {"_id": str(request_id)}, {"attempts": attempts, "retry_at": retry_at}, upsert=True
        )

    async def starts_due(self, now: datetime) -> list[tuple[uuid.UUID, int]]:
        due = self._starts.find({"retry_at": {"$lte": now}})
        return [(uuid.UUID(d["_id"]), d["attempts"]) async for d in due]

    async def instance(self, connection: str, instance: str) -> OaInstance | None:
        doc = await self._instances.find_one({"_id": f"{connection}/{instance}"})
        if doc is None:
            return None
        return OaInstance(
            request_id=uuid.UUID(doc["request_id"]),
            # Both arrays begin with the first event recorded.
            trail=tuple(Step(**s) for s in doc.get("trail", [])),
            events=frozenset(doc.get("events", [])),
        )

    async def record_event(
        self, connection: str, instance: str, event_id: str, steps: tuple[Step, ...]
    ) -> None:
        await self._instances.update_one(
            {"_id": f"{connection}/{instance}", "events": {"$ne": event_id}},
            {
                "$push": {
                    "events": event_id,
                    "trail": {"$each": [dataclasses.asdict(s) for s in steps]},
                }
            },
        )


class Nonces:
    """Callback nonces seen within the accepted clock window; a second use is a replay."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._coll = db["callback_nonces"]

    async def first_use(self, nonce: str) -> bool:
        now = utc_now()
        # Older nonces can no longer pass the timestamp check, so they need not be kept.
        await self._coll.delete_many({"seen_at": {"$lt": now - timedelta(minutes=15)}})
        try:
            await self._coll.insert_one({"_id": nonce, "seen_at": now})
        except DuplicateKeyError:
            return False
        return True
