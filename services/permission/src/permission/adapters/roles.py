"""Role assignments, owned here: one document per (principal, role, fonds), held or not.

A change and the event that announces it are written in one document update (its ``announce``
list), so a crash between keeping a change and publishing it loses no event: ``pending`` gives
what is still to be announced, and ``announced`` takes it off once published.
"""

from __future__ import annotations

import time
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from contracts.envelope import Envelope
from contracts.events import RoleAssigned, RoleRevoked
from contracts.roles import ADMINISTRATORS
from permission.domain.access import ChangeRefused, RoleAssignment
from permission.ports import Pending, RoleChange
from servicekit.mongo import Document
from servicekit.roles import HeldRole, Holder, KeptRoles

_KINDS: dict[str, Any] = {"assigned": Envelope[RoleAssigned], "revoked": Envelope[RoleRevoked]}


def _key(a: RoleAssignment) -> str:
    return f"{a.user}|{a.role}|{a.fonds_code}"


def _element(change: RoleChange) -> Document:
    kind = "assigned" if isinstance(change.data, RoleAssigned) else "revoked"
    return {"kind": kind, "event": change.model_dump(mode="json")}


class Roles:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._roles = db["role_assignments"]
        # One document per administrator, keyed by principal: of two administrative roles
        # given to one principal at once, the unique key lets one in (三员分立), whatever the
        # timing of the checks before.
        self._administrators = db["administrators"]

    async def ensure_indexes(self) -> None:
        await self._roles.create_index([("user", 1), ("held", 1)])

    async def held(self, user: str | None = None) -> list[RoleAssignment]:
        query: dict[str, Any] = {"held": True, **({"user": user} if user else {})}
        return [
            RoleAssignment(d["user"], d["role"], d["fonds_code"])
            async for d in self._roles.find(query)
        ]

    async def is_empty(self) -> bool:
        return await self._roles.find_one({}) is None

    async def assign(self, a: RoleAssignment, announce: Envelope[RoleAssigned]) -> Pending | None:
        """Hold ``a`` from now; None if it is held already (nothing changes)."""
        if a.role in ADMINISTRATORS:
            await self._claim_administrator(a)
        element = _element(announce)
        fields = {"user": a.user, "role": a.role, "fonds_code": a.fonds_code, "held": True}
        try:
            await self._roles.update_one(
                {"_id": _key(a), "held": {"$ne": True}},
                {"$set": fields, "$push": {"announce": element}},
                upsert=True,
            )
        except DuplicateKeyError:  # held: the filter missed it, and the upsert met its id
            return None
        return Pending(_key(a), element, announce)

    async def _claim_administrator(self, a: RoleAssignment) -> None:
        """ChangeRefused if the principal holds another administrative role, or is being given
        one this moment (its claim is made before its assignment)."""
        try:
            await self._administrators.insert_one({"_id": a.user, "role": a.role})
            return
        except DuplicateKeyError:
            claim = await self._administrators.find_one({"_id": a.user})
        if claim is not None and claim["role"] == a.role:
            return
        raise ChangeRefused(
            f"{a.user} is an administrator already: no principal holds two of the three "
            "administrative roles (三员分立)"
        )

    async def revoke(self, a: RoleAssignment, announce: Envelope[RoleRevoked]) -> Pending | None:
        """End ``a``; None if it is not held."""
        element = _element(announce)
        result = await self._roles.update_one(
            {"_id": _key(a), "held": True},
            {"$set": {"held": False}, "$push": {"announce": element}},
        )
        # The claim goes with the role's last assignment (also when a revoke is repeated after
        # a crash between the two writes).
        last = not await self._roles.find_one({"user": a.user, "role": a.role, "held": True})
        if a.role in ADMINISTRATORS and last:
            await self._administrators.delete_one({"_id": a.user, "role": a.role})
        return Pending(_key(a), element, announce) if result.modified_count == 1 else None

    async def pending(self) -> list[Pending]:
        return [
            Pending(d["_id"], e, _KINDS[e["kind"]].model_validate(e["event"]))
            async for d in self._roles.find({"announce.0": {"$exists": True}})
            for e in d["announce"]
        ]

    async def announced(self, pending: Pending) -> None:
        await self._roles.update_one({"_id": pending.key}, {"$pull": {"announce": pending.element}})


class CachedRoles(Roles):
    """Each principal's roles kept in memory once read, for the check that asks them every
    time: forgotten on a change made here, and on one another replica announces
    (``servicekit.roles.follow_role_changes``); ``ttl`` bounds a change missed meanwhile."""

    def __init__(self, db: AsyncDatabase[Document], ttl: float = 60) -> None:
        super().__init__(db)
        self._kept: KeptRoles[list[RoleAssignment]] = KeptRoles(ttl)

    async def held(self, user: str | None = None) -> list[RoleAssignment]:
        if user is None:
            return await super().held()
        if (kept := self._kept.get(user)) is not None:
            return kept
        asked_at = time.monotonic()
        roles = await super().held(user)
        self._kept.keep(user, roles, asked_at)
        return roles

    async def assign(self, a: RoleAssignment, announce: Envelope[RoleAssigned]) -> Pending | None:
        self.forget(a.user)
        try:
            return await super().assign(a, announce)
        finally:
            self.forget(a.user)

    async def revoke(self, a: RoleAssignment, announce: Envelope[RoleRevoked]) -> Pending | None:
        self.forget(a.user)
        try:
            return await super().revoke(a, announce)
        finally:
            self.forget(a.user)

    def forget(self, name: str) -> None:
        self._kept.forget(name)


class Holders:
    """This service's own roles, in the shape every other service gets them in over HTTP
    (``servicekit.roles.Holder``): for the operations servicekit guards by role."""

    def __init__(self, roles: CachedRoles) -> None:
        self._roles = roles

    async def holder(self, name: str) -> Holder:
        held = await self._roles.held(name)
        return Holder(name, tuple(HeldRole(a.role, a.fonds_code) for a in held))
