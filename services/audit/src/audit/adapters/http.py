"""HTTP for auditors: query the trail, export it whole, verify the chain.

Only security auditors (安全审计员) and auditors of every fonds read the trail: entries are not
yet kept by fonds, so an auditor of some fonds only is refused rather than shown others'.
"""

from __future__ import annotations

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
    async def trail_reader(caller: Caller) -> None:
        holder = await directory.holder(caller.name)
        if ALL_FONDS not in holder.fonds_where(Action.READ_TRAIL):
            raise HTTPException(
                403, f"{caller.name}: the audit trail answers security auditors and auditors only"
            )

    router = APIRouter(prefix="/v1", tags=["audit"], dependencies=[Depends(trail_reader)])

    @router.get("/entries")
    async def entries(
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
        )
        next_after = items[-1]["seq"] if len(items) == limit else None
        return {"items": items, "next_after_seq": next_after}

    @router.get("/export")
    async def export() -> StreamingResponse:
        async def lines() -> AsyncIterator[bytes]:
            async for entry in service.export():
                yield json.dumps(entry, ensure_ascii=False, sort_keys=True).encode() + b"\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    @router.get("/verify")
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
