"""Approval's own database: borrowing requests, and the callback nonces already seen."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from approval.domain.borrowing import BorrowingRequest, Decision, RequestStatus
from contracts.types import utc_now
from servicekit.mongo import Document


def _to_doc(r: BorrowingRequest) -> Document:
    d = r.decision
    return {
        "_id": str(r.request_id),
        "applicant": r.applicant,
        "record_ids": [str(x) for x in r.record_ids],
        "reason": r.reason,
        "days": r.days,
        "requested_at": r.requested_at,
        "status": r.status.value,
        "decision": None
        if d is None
        else {
            "decision": d.decision,
            "approver": d.approver,
            "comment": d.comment,
            "oa_instance_id": d.oa_instance_id,
            "decided_at": d.decided_at,
        },
    }


def _from_doc(doc: Document) -> BorrowingRequest:
    d: dict[str, Any] | None = doc.get("decision")
    return BorrowingRequest(
        request_id=uuid.UUID(doc["_id"]),
        applicant=doc["applicant"],
        record_ids=tuple(uuid.UUID(x) for x in doc["record_ids"]),
        reason=doc["reason"],
        days=doc["days"],
        requested_at=doc["requested_at"],
        status=RequestStatus(doc["status"]),
        decision=None if d is None else Decision(request_id=uuid.UUID(doc["_id"]), **d),
    )


class Requests:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._coll = db["borrowing_requests"]

    async def ensure_indexes(self) -> None:
        await self._coll.create_index([("applicant", 1), ("requested_at", -1)])

    async def add(self, request: BorrowingRequest) -> None:
        await self._coll.insert_one(_to_doc(request))

    async def get(self, request_id: uuid.UUID) -> BorrowingRequest | None:
        doc = await self._coll.find_one({"_id": str(request_id)})
        return _from_doc(doc) if doc else None

    async def save_decision(self, request: BorrowingRequest) -> bool:
        """Store the decision only if the request is still pending (compare-and-set)."""
        result = await self._coll.update_one(
            {"_id": str(request.request_id), "status": RequestStatus.PENDING.value},
            {"$set": {"status": request.status.value, "decision": _to_doc(request)["decision"]}},
        )
        return result.modified_count == 1


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
