"""HTTP: the check API the platform's services ask, role assignments (the security
administrator's), a principal's roles, a user's own grants, and withdrawing a grant.

Checks, visibility and anyone's roles answer only the services' own clients; a person sees
their own roles and grants. A check names the person by their subject at the identity provider
(who holds roles) and the name they go by (whom borrowing grants name).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import BaseModel

from contracts.events import AccessRevoked
from contracts.roles import PRINCIPAL_NAME, PRINCIPAL_NAME_RULE, Role
from permission.domain.access import RoleAssignment
from permission.service import PermissionService
from servicekit.auth import Caller, Person, Principal

# A role is given only to a name a token can carry (contracts.roles.PRINCIPAL_NAME).
UserName = Annotated[
    str, Path(pattern=f"^{PRINCIPAL_NAME.pattern}$", description=PRINCIPAL_NAME_RULE)
]
Subject = Annotated[
    str, Query(min_length=1, max_length=255, description="The person's `sub` at the IdP")
]


class CheckAnswer(BaseModel):
    allowed: bool
    reason: str
    record_known: bool
    grant_id: uuid.UUID | None = None  # the grant that allows, when one does


class VisibilityAnswer(BaseModel):
    all_fonds: bool
    fonds: list[str]
    record_ids: list[uuid.UUID]


class HeldRoleView(BaseModel):
    role: str
    fonds_code: str


class AssignmentView(HeldRoleView):
    user: str
    subject: str | None = None  # the IdP's subject holding it; None: nobody signed in as user yet


class GrantView(BaseModel):
    grant_id: uuid.UUID
    actions: list[str]
    record_ids: list[uuid.UUID]
    valid_from: str
    valid_until: str
    revoked_at: str | None


def permission_router(service: PermissionService, service_clients: Collection[str]) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["permission"])

    def require_service(caller: Principal) -> None:
        if caller.client_id not in service_clients:
            raise HTTPException(403, f"{caller.name}: checks answer the platform's services only")

    @router.get("/check")
    async def check(
        caller: Caller,
        user: Annotated[str, Query(min_length=1)],
        subject: Subject,
        action: Annotated[str, Query(min_length=1)],
        resource: Annotated[str, Query(description="record:<uuid>")],
    ) -> CheckAnswer:
        require_service(caller)
        result = await service.check(Person(subject, user), action, resource)
        return CheckAnswer(
            allowed=result.allowed,
            reason=result.reason,
            record_known=result.record_known,
            grant_id=result.grant_id,
        )

    @router.get("/visibility")
    async def visible(
        caller: Caller,
        user: Annotated[str, Query(min_length=1)],
        subject: Subject,
        action: str = "read",
    ) -> VisibilityAnswer:
        """What ``user`` may see, for other services to filter searches by."""
        require_service(caller)
        v = await service.visibility(Person(subject, user), action)
        return VisibilityAnswer(
            all_fonds=v.all_fonds, fonds=list(v.fonds), record_ids=list(v.record_ids)
        )

    @router.get("/roles/{user}")
    async def roles(
        caller: Caller, user: str, subject: Annotated[str | None, Query(min_length=1)] = None
    ) -> list[HeldRoleView]:
        """The roles the person ``subject`` (going by ``user``) holds and where: for the
        services; for the user themself without ``subject``."""
        who = Person(subject or caller.subject, user)
        if who != Person(caller.subject, caller.name):
            require_service(caller)
        return [
            HeldRoleView(role=r.role, fonds_code=r.fonds_code) for r in await service.roles_of(who)
        ]

    @router.get("/role-assignments")
    async def assignments(caller: Caller) -> list[AssignmentView]:
        """Every role held, for the security administrator (安全管理员): by the name each
        holder goes by, with their subject (none: nobody has signed in under the name yet)."""
        return [
            AssignmentView(user=a.user, role=a.role, fonds_code=a.fonds_code, subject=a.subject)
            for a in await service.assignments(by=caller)
        ]

    @router.put(
        "/role-assignments/{user}/{role}/{fonds_code}",
        status_code=201,
        responses={200: {"description": "held already: nothing changed"}},
    )
    async def assign(
        caller: Caller, user: UserName, role: Role, fonds_code: str, response: Response
    ) -> AssignmentView:
        """Give ``user`` ``role`` in a fonds ("*": every fonds); announced as RoleAssigned.
        403 unless the caller is a security administrator of that fonds; 409 if it would give
        one principal two administrative roles (三员分立) or is the caller's own. The role is
        held by whom ``user`` names: the person who most recently signed in under it, or the
        first who will."""
        a = RoleAssignment(user, role.value, fonds_code)
        if not await service.assign(a, by=caller):
            response.status_code = 200
        return AssignmentView(user=user, role=role.value, fonds_code=fonds_code)

    @router.delete("/role-assignments/{user}/{role}/{fonds_code}", status_code=204)
    async def revoke(caller: Caller, user: UserName, role: Role, fonds_code: str) -> None:
        """Take the role away; announced as RoleRevoked. 404 if it is not held."""
        await service.revoke(RoleAssignment(user, role.value, fonds_code), by=caller)

    @router.get("/grants")
    async def grants(caller: Caller) -> list[GrantView]:
        """The caller's own grants (a borrower sees theirs only)."""
        return [
            GrantView(
                grant_id=g.grant_id,
                actions=list(g.actions),
                record_ids=list(g.record_ids),
                valid_from=g.valid_from.isoformat(),
                valid_until=g.valid_until.isoformat(),
                revoked_at=g.revoked_at.isoformat() if g.revoked_at else None,
            )
            for g in await service.grants_of(caller.name)
        ]

    @router.post("/grants/{grant_id}/withdrawal")
    async def withdraw(caller: Caller, grant_id: uuid.UUID) -> AccessRevoked:
        """The security administrator ends a grant before its time (AccessRevoked, reason
        ``withdrawn``); 409 if it has ended already."""
        return await service.withdraw(grant_id, by=caller)

    return router
