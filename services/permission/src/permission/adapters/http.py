"""HTTP: the check API other services ask, and a user's grants."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from permission.service import PermissionService


def permission_router(service: PermissionService) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["permission"])

    @router.get("/check")
    async def check(
        user: Annotated[str, Query(min_length=1)],
        action: Annotated[str, Query(min_length=1)],
        resource: Annotated[str, Query(description="record:<uuid>")],
    ) -> dict[str, Any]:
        result = await service.check(user, action, resource)
        return {
            "allowed": result.allowed,
            "reason": result.reason,
            "record_known": result.record_known,
        }

    @router.get("/visibility")
    async def visible(
        user: Annotated[str, Query(min_length=1)], action: str = "read"
    ) -> dict[str, Any]:
        """What ``user`` may see, for other services to filter searches by."""
        v = await service.visibility(user, action)
        return {
            "all_fonds": v.all_fonds,
            "fonds": list(v.fonds),
            "record_ids": [str(r) for r in v.record_ids],
        }

    @router.get("/grants")
    async def grants(user: Annotated[str, Query(min_length=1)]) -> list[dict[str, Any]]:
        return [
            {
                "grant_id": str(g.grant_id),
                "actions": list(g.actions),
                "record_ids": [str(r) for r in g.record_ids],
                "valid_from": g.valid_from.isoformat(),
                "valid_until": g.valid_until.isoformat(),
                "revoked_at": g.revoked_at.isoformat() if g.revoked_at else None,
            }
            for g in await service.grants_of(user)
        ]

    return router
