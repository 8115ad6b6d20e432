"""Approval's own database: borrowing requests, the OA's words that changed them, the OA
instances they run as, and callback nonces seen.

A request's state changes are numbered, each stored under (request, n): of two deliveries
racing to make the n-th change, the primary key lets one win, and the other re-reads and
re-decides.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb

from approval.domain.borrowing import BorrowingRequest, Decision
from approval.domain.oa_states import Outcome
from approval.vendors.events import OaInstance, Step
from contracts.events import ApprovalStep
from contracts.types import utc_now
from servicekit.database import Pool, transaction


def _step(s: Step) -> dict[str, Any]:
    return {"oa_user_id": s.oa_user_id, "decision": s.decision, "comment": s.comment,
            "at": s.at.isoformat() if s.at else None}  # fmt: skip


def _step_of(d: dict[str, Any]) -> Step:
    at = datetime.fromisoformat(d["at"]) if d.get("at") else None
    return Step(d["oa_user_id"], d["decision"], d.get("comment", ""), at)


def _decision(r: dict[str, Any]) -> Decision:
    return Decision(
        request_id=r["request_id"],
        oa_connection=r["oa_connection"],
        outcome=Outcome(r["outcome"]),
        approver=r["approver"],
        comment=r["comment"],
        oa_instance_id=r["oa_instance_id"],
        decided_at=r["decided_at"],
        trail=tuple(ApprovalStep.model_validate(s) for s in r["trail"]),
    )


def _request(r: dict[str, Any]) -> BorrowingRequest:
    return BorrowingRequest(
        request_id=r["request_id"],
        applicant=r["applicant"],
        fonds_code=r["fonds_code"],
        oa_connection=r["oa_connection"],
        record_ids=tuple(r["record_ids"]),
        reason=r["reason"],
        days=r["days"],
        mode=r["mode"],
        requested_at=r["requested_at"],
        oa_instance_id=r["oa_instance_id"],
        oa_unreachable=r["oa_unreachable"],
    )


class Requests:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def add(self, r: BorrowingRequest) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO borrowing_requests (request_id, applicant, fonds_code, "
                "oa_connection, record_ids, reason, days, mode, requested_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (r.request_id, r.applicant, r.fonds_code, r.oa_connection, list(r.record_ids),
                 r.reason, r.days, r.mode, r.requested_at),
            )  # fmt: skip

    async def open_before(self, cutoff: datetime) -> list[uuid.UUID]:
        async with self._pool.connection() as conn:
            due = await conn.execute(
                "SELECT request_id FROM borrowing_requests WHERE open AND requested_at < %s",
                (cutoff,),
            )
            return [r["request_id"] for r in await due.fetchall()]

    async def closed(self, request_id: uuid.UUID) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE borrowing_requests SET open = false WHERE request_id = %s", (request_id,)
            )

    async def get(self, request_id: uuid.UUID) -> BorrowingRequest | None:
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT * FROM borrowing_requests WHERE request_id = %s", (request_id,)
            )
            row = await found.fetchone()
            if row is None:
                return None
            changes = await conn.execute(
                "SELECT * FROM request_changes WHERE request_id = %s ORDER BY n", (request_id,)
            )
            request = _request(row)
            for change in await changes.fetchall():
                request = request.reached(_decision(change))
            return request

    async def save_change(self, request: BorrowingRequest) -> bool:
        """Store the request's latest change as its n-th, unless another delivery stored an
        n-th first. True if this one was stored."""
        d = request.decision
        assert d is not None
        async with self._pool.connection() as conn:
            kept = await conn.execute(
                "INSERT INTO request_changes (request_id, n, oa_connection, outcome, approver, "
                "comment, oa_instance_id, decided_at, trail) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (d.request_id, len(request.decisions), d.oa_connection, d.outcome.value,
                 d.approver, d.comment, d.oa_instance_id, d.decided_at,
                 Jsonb([s.model_dump(mode="json") for s in d.trail])),
            )  # fmt: skip
            return kept.rowcount == 1

    async def started(self, request_id: uuid.UUID, connection: str, instance: str) -> None:
        """The OA instance the request runs as (the OA's callbacks name it, not our id); the
        request no longer waits to be started."""
        async with transaction(self._pool) as conn:
            await conn.execute(
                "INSERT INTO oa_instances (connection, instance, request_id) "
                "VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                (connection, instance, request_id),
            )
            await conn.execute(
                "UPDATE borrowing_requests SET oa_instance_id = %s, oa_unreachable = NULL "
                "WHERE request_id = %s",
                (instance, request_id),
            )
            await conn.execute("DELETE FROM oa_starts WHERE request_id = %s", (request_id,))

    async def start_failed(
        self, request_id: uuid.UUID, reason: str, attempts: int, retry_at: datetime
    ) -> None:
        async with transaction(self._pool) as conn:
            await conn.execute(
                "UPDATE borrowing_requests SET oa_unreachable = %s WHERE request_id = %s",
                (reason, request_id),
            )
            await conn.execute(
                "INSERT INTO oa_starts (request_id, attempts, retry_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (request_id) DO UPDATE SET attempts = excluded.attempts, "
                "retry_at = excluded.retry_at",
                (request_id, attempts, retry_at),
            )

    async def starts_due(self, now: datetime) -> list[tuple[uuid.UUID, int]]:
        async with self._pool.connection() as conn:
            due = await conn.execute(
                "SELECT request_id, attempts FROM oa_starts WHERE retry_at <= %s", (now,)
            )
            return [(r["request_id"], r["attempts"]) for r in await due.fetchall()]

    async def instance(self, connection: str, instance: str) -> OaInstance | None:
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT request_id, events, trail FROM oa_instances "
                "WHERE connection = %s AND instance = %s",
                (connection, instance),
            )
            row = await found.fetchone()
        if row is None:
            return None
        return OaInstance(
            request_id=row["request_id"],
            trail=tuple(_step_of(s) for s in row["trail"]),
            events=frozenset(row["events"]),
        )

    async def record_event(
        self, connection: str, instance: str, event_id: str, steps: tuple[Step, ...]
    ) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE oa_instances SET events = array_append(events, %s), trail = trail || %s "
                "WHERE connection = %s AND instance = %s AND NOT (%s = ANY(events))",
                (event_id, Jsonb([_step(s) for s in steps]), connection, instance, event_id),
            )


class Nonces:
    """Callback nonces seen within the accepted clock window; a second use is a replay."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def first_use(self, nonce: str) -> bool:
        now = utc_now()
        async with self._pool.connection() as conn:
            # Older nonces can no longer pass the timestamp check, so they need not be kept.
            await conn.execute(
                "DELETE FROM callback_nonces WHERE seen_at < %s", (now - timedelta(minutes=15),)
            )
            kept = await conn.execute(
                "INSERT INTO callback_nonces (nonce, seen_at) VALUES (%s, %s) "
                "ON CONFLICT DO NOTHING",
                (nonce, now),
            )
            return kept.rowcount == 1
