"""Each service's database role, on the real server: what a stolen credential can do there.

Ingest parses hostile files; its role reaches its own database only. The audit service's role
may append to its log and read it, nothing else; and triggers refuse any change to an entry even
to the tables' owner, a second wall."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

from audit.adapters.log_store import LogStore
from devkit import pg_access
from servicekit.database import Pool, conninfo
from servicekit.settings import PlatformSettings

ENTRY = {
    "seq": 1, "event_id": "e1", "event_type": "cn.aap.Probe.v1", "time": "2026-12-07T00:00:00Z",
    "record_ids": [], "fonds_codes": ["Q001"], "data": {"probe": True}, "hash": "h",
}  # fmt: skip
# What no one may do to an entry once it is written.
CHANGES = (
    "UPDATE entries SET actor = 'forger' WHERE seq = 1",
    "DELETE FROM entries WHERE seq = 1",
    "TRUNCATE entries",
)


async def signed_in(
    platform: PlatformSettings, service: str, as_role: str
) -> psycopg.AsyncConnection:
    info = conninfo(platform, platform.database_name(service), as_role, pg_access.password(as_role))
    return await psycopg.AsyncConnection.connect(info, autocommit=True)


@pytest.mark.parametrize("other", ["permission", "archive", "audit", "approval"])
async def test_ingests_role_cannot_reach_another_services_database(
    platform: PlatformSettings, other: str
) -> None:
    ingest = pg_access.runtime_role(platform.namespace, "ingest")
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        await signed_in(platform, other, ingest)
    # Its own it reaches, and there it cannot make or change a table.
    async with await signed_in(platform, "ingest", ingest) as own:
        with pytest.raises(errors.InsufficientPrivilege):
            await own.execute("CREATE TABLE role_assignments (principal text)")
        with pytest.raises(errors.InsufficientPrivilege):
            await own.execute("ALTER TABLE submissions ADD COLUMN sneaked text")


async def test_the_audit_role_appends_and_reads_and_nothing_else(
    platform: PlatformSettings,
) -> None:
    async with pg_access.scratch(platform, "audit") as pool:
        assert await LogStore(pool).append([ENTRY]) == 1
        async with pool.connection() as conn:  # the runtime role, as the service signs in
            for statement in CHANGES:
                with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
                    await conn.execute(statement)
                await conn.rollback()
        assert [e["seq"] async for e in LogStore(pool).all_in_order()] == [1]
        await owners_are_refused_too(pool)


async def owners_are_refused_too(pool: Pool) -> None:
    """The owner of the tables holds every privilege on them: the triggers refuse it."""
    async with pg_access.as_owner(pool) as conn:
        for statement in CHANGES:
            with pytest.raises(errors.InsufficientPrivilege, match="the audit log is append-only"):
                await conn.execute(statement)
            await conn.rollback()
