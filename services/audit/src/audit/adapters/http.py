"""HTTP for auditors: query the trail, export it whole, verify the chain.

Security auditors (安全审计员) and auditors of every fonds read the whole trail; an auditor of
some fonds reads the entries about those fonds only, and neither exports nor verifies the whole
chain. Nobody else reads it.
"""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations at
# definition time, and ``Scope`` is local to the router (it closes over the directory).

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime

from audit.service import AuditService
from contracts.roles import ALL_FONDS, Action
from servicekit.auth import Caller
from servicekit.roles import RoleDirectory


def audit_router(service: AuditService, directory: RoleDirectory) -> APIRouter:
    async def trail_scope(caller: Caller) -> frozenset[str] | None:
        """The fonds whose entries the caller reads; None: the whole trail."""
        fonds = (await directory.holder(caller.name)).fonds_where(Action.READ_TRAIL)
        if not fonds:
            raise HTTPException(
                403, f"{caller.name}: the audit trail answers security auditors and auditors only"
            )
        return None if ALL_FONDS in fonds else fonds

    async def whole_trail(scope: Annotated[frozenset[str] | None, Depends(trail_scope)]) -> None:
        if scope is not None:
            raise HTTPException(
                403,
                "the whole trail (export, verify) answers security auditors and auditors of "
                f"every fonds; yours: {', '.join(sorted(scope))}",
            )

    Scope = Annotated[frozenset[str] | None, Depends(trail_scope)]
    router = APIRouter(prefix="/v1", tags=["audit"])

    @router.get("/entries")
    async def entries(
        scope: Scope,
        record_id: str | None = None,
        actor: str | None = None,
        event_type: Annotated[
            str | None, Query(description="e.g. cn.aap.RecordArchived.v1")
        ] = None,
        since: AwareDatetime | None = None,
        until: AwareDatetime | None = None,
        after_seq: Annotated[int, Query(ge=0, le=2**62, description="page after this entry")] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        items = await service.query(
            record_id=record_id,
            actor=actor,
            event_type=event_type,
            since=since,
            until=until,
            after_seq=after_seq,
            limit=limit,
            fonds=scope,
        )
        next_after = items[-1]["seq"] if len(items) == limit else None
        return {"items": items, "next_after_seq": next_after}

    @router.get("/export", dependencies=[Depends(whole_trail)])
    async def export() -> StreamingResponse:
        async def lines() -> AsyncIterator[bytes]:
            async for entry in service.export():
                yield json.dumps(entry, ensure_ascii=False, sort_keys=True).encode() + b"\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    @router.get("/verify", dependencies=[Depends(whole_trail)])
    async def verify() -> dict[str, Any]:
        r = await service.verify()
        return {
            "ok": r.ok,
            "entries_checked": r.entries_checked,
            "head_seq": r.head_seq,
            "head_hash": r.head_hash,
            "first_broken_seq": r.first_broken_seq,
            "reason": r.reason,
            "verified_at": datetime.now().astimezone().isoformat(),
        }

    return router
