"""HTTP: the check API the platform's services ask, a principal's roles, a user's own grants.

Checks, visibility and anyone's roles answer only the services' own clients; a person sees
their own roles and grants.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from permission.service import PermissionService
from servicekit.auth import Caller, Principal


def permission_router(service: PermissionService, service_clients: Collection[str]) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["permission"])

    def require_service(caller: Principal) -> None:
        if caller.client_id not in service_clients:
            raise HTTPException(403, f"{caller.name}: checks answer the platform's services only")

    @router.get("/check")
    async def check(
        caller: Caller,
        user: Annotated[str, Query(min_length=1)],
        action: Annotated[str, Query(min_length=1)],
        resource: Annotated[str, Query(description="record:<uuid>")],
    ) -> dict[str, Any]:
        require_service(caller)
        result = await service.check(user, action, resource)
        return {
            "allowed": result.allowed,
            "reason": result.reason,
            "record_known": result.record_known,
        }

    @router.get("/visibility")
    async def visible(
        caller: Caller, user: Annotated[str, Query(min_length=1)], action: str = "read"
    ) -> dict[str, Any]:
        """What ``user`` may see, for other services to filter searches by."""
        require_service(caller)
        v = await service.visibility(user, action)
        return {
            "all_fonds": v.all_fonds,
            "fonds": list(v.fonds),
            "record_ids": [str(r) for r in v.record_ids],
        }

    @router.get("/roles/{user}")
    async def roles(caller: Caller, user: str) -> list[dict[str, str]]:
        """The roles ``user`` holds and where: for the services, and for the user themself."""
        if user != caller.name:
            require_service(caller)
        return [{"role": r.role, "fonds_code": r.fonds_code} for r in service.roles_of(user)]

    @router.get("/grants")
    async def grants(caller: Caller) -> list[dict[str, Any]]:
        """The caller's own grants (a borrower sees theirs only)."""
        return [
            {
                "grant_id": str(g.grant_id),
                "actions": list(g.actions),
                "record_ids": [str(r) for r in g.record_ids],
                "valid_from": g.valid_from.isoformat(),
                "valid_until": g.valid_until.isoformat(),
                "revoked_at": g.revoked_at.isoformat() if g.revoked_at else None,
            }
            for g in await service.grants_of(caller.name)
        ]

    return router
