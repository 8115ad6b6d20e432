"""Approval's own database: borrowing requests, their decisions, and callback nonces seen.

A decision lives in its own collection under the request's id: the first one stored wins by the
storage engine's unique key, whichever channel (OA topic or callback) delivered it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from approval.domain.borrowing import BorrowingRequest, Decision, RequestStatus
from contracts.types import utc_now
from servicekit.mongo import Document


def _decision_doc(d: Decision) -> Document:
    return {
        "_id": str(d.request_id),
        "oa_connection": d.oa_connection,
        "decision": d.decision,
        "approver": d.approver,
        "comment": d.comment,
        "oa_instance_id": d.oa_instance_id,
        "decided_at": d.decided_at,
    }


def _request(doc: Document, decision: Document | None) -> BorrowingRequest:
    request_id = uuid.UUID(doc["_id"])
    d = None
    if decision is not None:
        fields = {k: v for k, v in decision.items() if k != "_id"}
        d = Decision(request_id=request_id, **fields)
    return BorrowingRequest(
        request_id=request_id,
        applicant=doc["applicant"],
        fonds_code=doc["fonds_code"],
        oa_connection=doc["oa_connection"],
        record_ids=tuple(uuid.UUID(x) for x in doc["record_ids"]),
        reason=doc["reason"],
        days=doc["days"],
        requested_at=doc["requested_at"],
        status=RequestStatus(d.decision) if d else RequestStatus.PENDING,
        decision=d,
    )


class Requests:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._requests = db["borrowing_requests"]
        self._decisions = db["decisions"]

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

    async def get(self, request_id: uuid.UUID) -> BorrowingRequest | None:
        doc = await self._requests.find_one({"_id": str(request_id)})
        if doc is None:
            return None
        return _request(doc, await self._decisions.find_one({"_id": str(request_id)}))

    async def save_decision(self, decision: Decision) -> bool:
        """Store the decision unless one is stored already. True if this one was stored."""
        try:
            await self._decisions.insert_one(_decision_doc(decision))
        except DuplicateKeyError:
            return False
        return True


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
