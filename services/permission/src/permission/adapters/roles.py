"""Role assignments, owned here: one row per (person, role, fonds), held or not.

A person is the identity provider's issuer and subject; the security administrator names them
by name, which means the person who most recently began to go by it (``people``). A role given
to a name nobody has signed in under yet waits, unbound, for the first sign-in under it
(``held_by``), and so do the roles the local seed gives.

Changes to one name's roles take turns (a transaction lock on the name), so the check that no
principal holds two administrative roles (三员分立) and the change it allows are one step; the
use case announces the change in the same unit of work.
"""

from __future__ import annotations

import time
from typing import Any

from contracts.roles import ADMINISTRATORS
from permission.domain.access import ChangeRefused, RoleAssignment
from servicekit.auth import Person
from servicekit.database import Connection, Pool, after_commit, transaction
from servicekit.roles import HeldRole, Holder, KeptRoles


async def _turn_of(conn: Connection, name: str) -> None:
    """Changes to one name's roles take turns until this transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (name,))


def _assignments(rows: list[dict[str, Any]]) -> list[RoleAssignment]:
    return [RoleAssignment(r["principal"], r["role"], r["fonds_code"], r["subject"]) for r in rows]


class Roles:
    """``issuer``: the identity provider every subject here is of (AAP_OIDC_ISSUER).

    The statements that read or change the roles of whom a name means take the person as
    ``%(issuer)s, %(subject)s`` (bound rows) or, subject NULL, ``%(name)s`` (waiting rows)."""

    def __init__(self, pool: Pool, issuer: str) -> None:
        self._pool = pool
        self._issuer = issuer

    async def held_by(self, who: Person) -> list[RoleAssignment]:
        """The roles ``who`` holds. Seen for the first time, or under a new name, they are
        bound the roles waiting for that name, and their rows take the name."""
        person = {"issuer": self._issuer, "subject": who.subject, "name": who.name}
        async with transaction(self._pool) as conn:
            seen = await conn.execute(
                "SELECT name FROM people WHERE issuer = %(issuer)s AND subject = %(subject)s",
                person,
            )
            row = await seen.fetchone()
            if row is None or row["name"] != who.name:
                await self._meet(conn, person)
            found = await conn.execute(
                "SELECT principal, role, fonds_code, subject FROM role_assignments "
                "WHERE issuer = %(issuer)s AND subject = %(subject)s AND held",
                person,
            )
            return _assignments(await found.fetchall())

    async def _meet(self, conn: Connection, person: dict[str, str]) -> None:
        await _turn_of(conn, person["name"])
        await conn.execute(
            "INSERT INTO people (issuer, subject, name, named_at) "
            "VALUES (%(issuer)s, %(subject)s, %(name)s, now()) ON CONFLICT (issuer, subject) "
            "DO UPDATE SET name = excluded.name, named_at = excluded.named_at",
            person,
        )
        await conn.execute(  # renamed: their rows go by the new name
            "UPDATE role_assignments SET principal = %(name)s "
            "WHERE issuer = %(issuer)s AND subject = %(subject)s AND principal <> %(name)s",
            person,
        )
        # A waiting role they hold already (given to the new name before they came to it):
        # held if either was, and the waiting row goes.
        await conn.execute(
            "UPDATE role_assignments mine SET held = true FROM role_assignments waiting "
            "WHERE waiting.subject IS NULL AND waiting.principal = %(name)s AND waiting.held "
            "AND mine.issuer = %(issuer)s AND mine.subject = %(subject)s "
            "AND mine.role = waiting.role AND mine.fonds_code = waiting.fonds_code",
            person,
        )
        await conn.execute(
            "DELETE FROM role_assignments waiting USING role_assignments mine "
            "WHERE waiting.subject IS NULL AND waiting.principal = %(name)s "
            "AND mine.issuer = %(issuer)s AND mine.subject = %(subject)s "
            "AND mine.role = waiting.role AND mine.fonds_code = waiting.fonds_code",
            person,
        )
        await conn.execute(
            "UPDATE role_assignments SET issuer = %(issuer)s, subject = %(subject)s "
            "WHERE subject IS NULL AND principal = %(name)s",
            person,
        )

    async def held(self, user: str | None = None) -> list[RoleAssignment]:
        """The roles held by whom ``user`` names now; None: every role held."""
        async with transaction(self._pool) as conn:
            if user is None:  # every role held: the role listing, a deliberate full read
                found = await conn.execute(
                    "SELECT principal, role, fonds_code, subject FROM role_assignments "
                    "WHERE held ORDER BY principal"
                )
            else:
                found = await conn.execute(
                    "SELECT principal, role, fonds_code, subject FROM role_assignments "
                    "WHERE held AND (issuer = %(issuer)s AND subject = %(subject)s "
                    "OR %(subject)s::text IS NULL AND subject IS NULL AND principal = %(name)s)",
                    await self._named(conn, user),
                )
            return _assignments(await found.fetchall())

    async def _named(self, conn: Connection, name: str) -> dict[str, str | None]:
        """Whom ``name`` means: the person who most recently began to go by it, or (subject
        None) nobody yet."""
        found = await conn.execute(
            "SELECT subject FROM people WHERE name = %s AND issuer = %s "
            "ORDER BY named_at DESC LIMIT 1",
            (name, self._issuer),
        )
        row = await found.fetchone()
        if row is None:
            return {"issuer": None, "subject": None, "name": name}
        return {"issuer": self._issuer, "subject": row["subject"], "name": name}

    async def is_empty(self) -> bool:
        async with self._pool.connection() as conn:
            found = await conn.execute("SELECT 1 FROM role_assignments LIMIT 1")
            return await found.fetchone() is None

    async def assign(self, a: RoleAssignment) -> RoleAssignment | None:
        """Hold ``a`` from now, as whom its name means (waiting for them if nobody yet); the
        assignment as held, or None if it is held already (nothing changes). ChangeRefused if
        they hold another administrative role."""
        async with transaction(self._pool) as conn:
            await _turn_of(conn, a.user)
            named = await self._named(conn, a.user)
            change = named | {"role": a.role, "fonds_code": a.fonds_code}
            if a.role in ADMINISTRATORS:
                other = await conn.execute(
                    "SELECT role FROM role_assignments WHERE held "
                    "AND (issuer = %(issuer)s AND subject = %(subject)s "
                    "OR %(subject)s::text IS NULL AND subject IS NULL AND principal = %(name)s) "
                    "AND role = ANY(%(administrators)s) AND role <> %(role)s LIMIT 1",
                    change | {"administrators": sorted(ADMINISTRATORS)},
                )
                if await other.fetchone() is not None:
                    raise ChangeRefused(
                        f"{a.user} is an administrator already: no principal holds two of the "
                        "three administrative roles (三员分立)"
                    )
            if named["subject"] is None:
                changed = await conn.execute(
                    "INSERT INTO role_assignments (principal, role, fonds_code, held) "
                    "VALUES (%(name)s, %(role)s, %(fonds_code)s, true) "
                    "ON CONFLICT (principal, role, fonds_code) WHERE subject IS NULL "
                    "DO UPDATE SET held = true WHERE NOT role_assignments.held",
                    change,
                )
            else:
                changed = await conn.execute(
                    "INSERT INTO role_assignments "
                    "(principal, role, fonds_code, held, issuer, subject) "
                    "VALUES (%(name)s, %(role)s, %(fonds_code)s, true, %(issuer)s, %(subject)s) "
                    "ON CONFLICT (issuer, subject, role, fonds_code) WHERE subject IS NOT NULL "
                    "DO UPDATE SET held = true WHERE NOT role_assignments.held",
                    change,
                )
            if changed.rowcount != 1:
                return None
            return RoleAssignment(a.user, a.role, a.fonds_code, named["subject"])

    async def revoke(self, a: RoleAssignment) -> RoleAssignment | None:
        """End ``a`` for whom its name means; the assignment ended, or None if not held."""
        async with transaction(self._pool) as conn:
            await _turn_of(conn, a.user)
            named = await self._named(conn, a.user)
            changed = await conn.execute(
                "UPDATE role_assignments SET held = false WHERE held "
                "AND (issuer = %(issuer)s AND subject = %(subject)s "
                "OR %(subject)s::text IS NULL AND subject IS NULL AND principal = %(name)s) "
                "AND role = %(role)s AND fonds_code = %(fonds_code)s",
                named | {"role": a.role, "fonds_code": a.fonds_code},
            )
            if changed.rowcount != 1:
                return None
            return RoleAssignment(a.user, a.role, a.fonds_code, named["subject"])


class CachedRoles(Roles):
    """Each person's roles kept in memory once read, for the check that asks them every time:
    forgotten on a change made here, and on one another replica announces
    (``servicekit.roles.follow_role_changes``); ``ttl`` bounds a change missed meanwhile."""

    def __init__(self, pool: Pool, issuer: str, ttl: float = 60) -> None:
        super().__init__(pool, issuer)
        self._kept: KeptRoles[list[RoleAssignment]] = KeptRoles(ttl)

    async def held_by(self, who: Person) -> list[RoleAssignment]:
        if (kept := self._kept.get(who)) is not None:
            return kept
        asked_at = time.monotonic()
        roles = await super().held_by(who)
        self._kept.keep(who, roles, asked_at)
        return roles

    async def assign(self, a: RoleAssignment) -> RoleAssignment | None:
        return self._forgotten(await super().assign(a))

    async def revoke(self, a: RoleAssignment) -> RoleAssignment | None:
        return self._forgotten(await super().revoke(a))

    def _forgotten(self, changed: RoleAssignment | None) -> RoleAssignment | None:
        """Forget the holder's roles now, and again once the change is committed: what is
        read meanwhile is the old state."""
        if changed is not None and (subject := changed.subject) is not None:
            self.forget(subject)
            after_commit(lambda: self.forget(subject))
        return changed

    def forget(self, subject: str) -> None:
        self._kept.forget(subject)


class Holders:
    """This service's own roles, in the shape every other service gets them in over HTTP
    (``servicekit.roles.Holder``): for the operations servicekit guards by role."""

    def __init__(self, roles: CachedRoles) -> None:
        self._roles = roles

    async def holder(self, who: Person) -> Holder:
        held = await self._roles.held_by(who)
        return Holder(who.name, tuple(HeldRole(a.role, a.fonds_code) for a in held))
