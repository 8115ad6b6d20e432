"""Role assignments, owned here: one row per (principal, role, fonds), held or not.

Changes to one principal's roles take turns (a transaction lock on the principal), so the check
that no principal holds two administrative roles (三员分立) and the change it allows are one
step; the use case announces the change in the same unit of work.
"""

from __future__ import annotations

import time

from contracts.roles import ADMINISTRATORS
from permission.domain.access import ChangeRefused, RoleAssignment
from servicekit.database import Connection, Pool, after_commit, transaction
from servicekit.roles import HeldRole, Holder, KeptRoles


async def _turn_of(conn: Connection, principal: str) -> None:
    """Changes to one principal's roles take turns until this transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (principal,))


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

    async def assign(self, a: RoleAssignment) -> bool:
        """Hold ``a`` from now; False if it is held already (nothing changes). ChangeRefused if
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
            return changed.rowcount == 1

    async def revoke(self, a: RoleAssignment) -> bool:
        """End ``a``; False if it is not held."""
        async with transaction(self._pool) as conn:
            await _turn_of(conn, a.user)
            changed = await conn.execute(
                "UPDATE role_assignments SET held = false "
                "WHERE principal = %s AND role = %s AND fonds_code = %s AND held",
                (a.user, a.role, a.fonds_code),
            )
            return changed.rowcount == 1


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

    async def assign(self, a: RoleAssignment) -> bool:
        self.forget(a.user)
        try:
            return await super().assign(a)
        finally:  # what was read meanwhile is the old state, until the change is committed
            after_commit(lambda: self.forget(a.user))

    async def revoke(self, a: RoleAssignment) -> bool:
        self.forget(a.user)
        try:
            return await super().revoke(a)
        finally:
            after_commit(lambda: self.forget(a.user))

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
