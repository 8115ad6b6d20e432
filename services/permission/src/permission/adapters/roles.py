"""Role assignments, owned here: one row per (principal, role, fonds), held or not.

A change and the event that announces it are written in one transaction (``role_announcements``),
so a crash between keeping a change and publishing it loses no event: ``pending`` gives what is
still to be announced, and ``announced`` takes it off once published. Changes to one principal's
roles take turns (a transaction lock on the principal), so the check that no principal holds two
administrative roles (三员分立) and the change it allows are one step.
"""

from __future__ import annotations

import time
from typing import Any

from psycopg.types.json import Jsonb

from contracts.envelope import Envelope
from contracts.events import RoleAssigned, RoleRevoked
from contracts.roles import ADMINISTRATORS
from permission.domain.access import ChangeRefused, RoleAssignment
from permission.ports import Pending, RoleChange
from servicekit.database import Connection, Pool, transaction
from servicekit.roles import HeldRole, Holder, KeptRoles

_KINDS: dict[str, Any] = {"assigned": Envelope[RoleAssigned], "revoked": Envelope[RoleRevoked]}


def _key(a: RoleAssignment) -> str:
    return f"{a.user}|{a.role}|{a.fonds_code}"


async def _turn_of(conn: Connection, principal: str) -> None:
    """Changes to one principal's roles take turns until this transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (principal,))


async def _announce(conn: Connection, a: RoleAssignment, change: RoleChange) -> Pending:
    kind = "assigned" if isinstance(change.data, RoleAssigned) else "revoked"
    kept = await conn.execute(
        "INSERT INTO role_announcements (assignment, kind, event) VALUES (%s, %s, %s) RETURNING id",
        (_key(a), kind, Jsonb(change.model_dump(mode="json"))),
    )
    row = await kept.fetchone()
    assert row is not None
    return Pending(_key(a), {"id": row["id"]}, change)


class Roles:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def held(self, user: str | None = None) -> list[RoleAssignment]:
        async with self._pool.connection() as conn:
            if user is None:  # every role held: the role listing, a deliberate full read
                found = await conn.execute(
                    "SELECT principal, role, fonds_code FROM role_assignments WHERE held"
                )
            else:
                found = await conn.execute(
                    "SELECT principal, role, fonds_code FROM role_assignments "
                    "WHERE held AND principal = %s",
                    (user,),
                )
            return [
                RoleAssignment(r["principal"], r["role"], r["fonds_code"])
                for r in await found.fetchall()
            ]

    async def is_empty(self) -> bool:
        async with self._pool.connection() as conn:
            found = await conn.execute("SELECT 1 FROM role_assignments LIMIT 1")
            return await found.fetchone() is None

    async def assign(self, a: RoleAssignment, announce: Envelope[RoleAssigned]) -> Pending | None:
        """Hold ``a`` from now; None if it is held already (nothing changes). ChangeRefused if
        the principal holds another administrative role."""
        async with transaction(self._pool) as conn:
            await _turn_of(conn, a.user)
            if a.role in ADMINISTRATORS:
                other = await conn.execute(
                    "SELECT role FROM role_assignments WHERE principal = %s AND held "
                    "AND role = ANY(%s) AND role <> %s LIMIT 1",
                    (a.user, sorted(ADMINISTRATORS), a.role),
                )
                if await other.fetchone() is not None:
                    raise ChangeRefused(
                        f"{a.user} is an administrator already: no principal holds two of the "
                        "three administrative roles (三员分立)"
                    )
            changed = await conn.execute(
                "INSERT INTO role_assignments (principal, role, fonds_code, held) "
                "VALUES (%s, %s, %s, true) ON CONFLICT (principal, role, fonds_code) "
                "DO UPDATE SET held = true WHERE NOT role_assignments.held",
                (a.user, a.role, a.fonds_code),
            )
            if changed.rowcount == 0:
                return None
            return await _announce(conn, a, announce)

    async def revoke(self, a: RoleAssignment, announce: Envelope[RoleRevoked]) -> Pending | None:
        """End ``a``; None if it is not held."""
        async with transaction(self._pool) as conn:
            await _turn_of(conn, a.user)
            changed = await conn.execute(
                "UPDATE role_assignments SET held = false "
                "WHERE principal = %s AND role = %s AND fonds_code = %s AND held",
                (a.user, a.role, a.fonds_code),
            )
            if changed.rowcount == 0:
                return None
            return await _announce(conn, a, announce)

    async def pending(self) -> list[Pending]:
        async with self._pool.connection() as conn:
            found = await conn.execute(
                "SELECT id, assignment, kind, event FROM role_announcements ORDER BY id"
            )
            return [
                Pending(
                    r["assignment"], {"id": r["id"]}, _KINDS[r["kind"]].model_validate(r["event"])
                )
                for r in await found.fetchall()
            ]

    async def announced(self, pending: Pending) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "DELETE FROM role_announcements WHERE id = %s", (pending.element["id"],)
            )


class CachedRoles(Roles):
    """Each principal's roles kept in memory once read, for the check that asks them every
    time: forgotten on a change made here, and on one another replica announces
    (``servicekit.roles.follow_role_changes``); ``ttl`` bounds a change missed meanwhile."""

    def __init__(self, pool: Pool, ttl: float = 60) -> None:
        super().__init__(pool)
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
