"""Each service's database and its two roles, per namespace, on a PostgreSQL server.

- ``aap_<namespace>_<service>``: the runtime role the service signs in as; it may connect to its
  own database only and do there what the migrations grant it, table by table;
- ``aap_<namespace>_<service>_schema``: owns the database and its tables, and applies the
  migrations (``servicekit.schema``); no running service holds its password.

Locally the superuser's password and the roles' (derived from one random key, as the S3 users')
are kept in ``.local/secrets/postgres.json``. ``python -m devkit.pg_access superuser_password``
prints the first, for ``infra.sh``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row

from devkit.secretfile import kept
from servicekit.database import Connection, Pool, conninfo, pool_as
from servicekit.schema import migrate
from servicekit.settings import PlatformSettings

# The services that keep state, each in a database of its own.
SERVICES = ("ingest", "archive", "approval", "permission", "audit")
SUPERUSER = "postgres"


def local_secrets() -> dict[str, str]:
    def make() -> dict[str, str]:
        return {
            "superuser_password": secrets.token_urlsafe(24),
            "roles_key": secrets.token_urlsafe(32),
        }

    return kept("postgres", make)


def runtime_role(namespace: str, service: str) -> str:
    return f"aap_{namespace.replace('-', '_')}_{service}"


def schema_role(namespace: str, service: str) -> str:
    return runtime_role(namespace, service) + "_schema"


def password(role: str) -> str:
    key = local_secrets()["roles_key"].encode()
    mac = hmac.new(key, role.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def client_env(service: str, namespace: str) -> dict[str, str]:
    """What a process needs to reach the local database as ``service``'s runtime role."""
    if service not in SERVICES:
        return {}
    role = runtime_role(namespace, service)
    prefix = f"AAP_{service.upper()}_DATABASE_"
    return {f"{prefix}USER": role, f"{prefix}PASSWORD": password(role)}


def namespace_env(namespace: str) -> dict[str, str]:
    """Every service's database sign-in for ``namespace``: for tests that run the services in
    a namespace of their own."""
    return {k: v for service in SERVICES for k, v in client_env(service, namespace).items()}


def superuser_password() -> str:
    """The server's superuser's password: ``AAP_DATABASE_ADMIN_PASSWORD``, else this checkout's."""
    return os.environ.get("AAP_DATABASE_ADMIN_PASSWORD") or local_secrets()["superuser_password"]


def superuser(platform: PlatformSettings, database: str = "postgres") -> psycopg.Connection:
    """The server's superuser, connected to ``database``."""
    info = conninfo(platform, database, SUPERUSER, superuser_password())
    return psycopg.connect(info, autocommit=True)


def _role(conn: psycopg.Connection, role: str) -> None:
    found = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    verb = sql.SQL("ALTER" if found else "CREATE")
    conn.execute(
        sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(
            verb, sql.Identifier(role), sql.Literal(password(role))
        )
    )


def apply(platform: PlatformSettings, namespace: str, services: Sequence[str] = SERVICES) -> None:
    """The namespace's databases and roles (repeatable), and their migrations applied."""
    for service in services:
        runtime, owner = runtime_role(namespace, service), schema_role(namespace, service)
        name = platform.model_copy(update={"namespace": namespace}).database_name(service)
        with superuser(platform) as conn:
            _role(conn, runtime)
            _role(conn, owner)
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if exists.fetchone() is None:
                conn.execute(
                    sql.SQL(
                        "CREATE DATABASE {} OWNER {} ENCODING 'UTF8' LOCALE 'C.UTF-8' "
                        "TEMPLATE template0"
                    ).format(sql.Identifier(name), sql.Identifier(owner))
                )
            db = sql.Identifier(name)
            conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db))
            conn.execute(
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, sql.Identifier(runtime))
            )
            conn.execute(
                sql.SQL("ALTER DATABASE {} SET aap.runtime_role = {}").format(
                    db, sql.Literal(runtime)
                )
            )
        with superuser(platform, name) as conn:
            # Only the owner creates in the schema; the runtime role may use what it is granted.
            conn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(owner)))
            conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
            conn.execute(
                sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(runtime))
            )
        of_namespace = platform.model_copy(update={"namespace": namespace})
        migrate(of_namespace, service, owner, password(owner))


def remove(platform: PlatformSettings, namespace: str, services: Sequence[str] = SERVICES) -> None:
    """The namespace's databases and roles dropped (a test's clean-up)."""
    with superuser(platform) as conn:
        for service in services:
            name = platform.model_copy(update={"namespace": namespace}).database_name(service)
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            for role in (runtime_role(namespace, service), schema_role(namespace, service)):
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@asynccontextmanager
async def opened(platform: PlatformSettings, service: str) -> AsyncIterator[Pool]:
    """A pool of ``service``'s database in ``platform``'s namespace, as its runtime role (a
    tool's or a test's own, beside the service's)."""
    role = runtime_role(platform.namespace, service)
    pool = pool_as(platform, service, role, password(role))
    await pool.open()
    try:
        yield pool
    finally:
        await pool.close()


@asynccontextmanager
async def scratch(platform: PlatformSettings, service: str) -> AsyncIterator[Pool]:
    """A database of ``service``'s schema in a namespace of its own, dropped afterwards: for a
    benchmark's or a test's data that nothing else should see."""
    mine = platform.model_copy(update={"namespace": "scratch" + secrets.token_hex(4)})
    apply(mine, mine.namespace, [service])
    try:
        async with opened(mine, service) as pool:
            yield pool
    finally:
        remove(mine, mine.namespace, [service])


@asynccontextmanager
async def as_owner(pool: Pool) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """The owner of the tables (the schema role) in the database ``pool`` reaches as a runtime
    role: what the migrations run as."""
    info = conninfo_to_dict(str(pool.conninfo))
    owner = f"{info['user']}_schema"
    info.update(user=owner, password=password(owner))
    async with await psycopg.AsyncConnection.connect(make_conninfo("", **info)) as conn:
        yield conn


@asynccontextmanager
async def beyond_its_rules(platform: PlatformSettings, service: str) -> AsyncIterator[Pool]:
    """``service``'s database as the server's superuser with the triggers switched off
    (``session_replication_role``): the strongest writer there is, for the tests that show what
    such a writer's changes cannot hide."""

    async def no_triggers(conn: Connection) -> None:
        await conn.execute("SET session_replication_role = replica")
        await conn.commit()

    info = conninfo(platform, platform.database_name(service), SUPERUSER, superuser_password())
    pool = Pool(
        info, connection_class=Connection, kwargs={"row_factory": dict_row}, open=False,
        configure=no_triggers, min_size=1, max_size=2,
    )  # fmt: skip
    await pool.open()
    try:
        yield pool
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", choices=["superuser_password"])
    print(local_secrets()[parser.parse_args().name])


if __name__ == "__main__":
    main()
