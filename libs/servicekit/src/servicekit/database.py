"""PostgreSQL, the system of record, through psycopg 3 and its async pool.

Each service owns one database (``<namespace>_<service>``) and signs in with a login role of its
own, whose privileges the migrations grant table by table (``servicekit.migrations``); the
tables belong to a separate schema role. psycopg 3, because one driver serves both the services
(async, pooled) and the migration tool (yoyo, sync), and its statements are parameterised by the
server (``%s`` placeholders sent apart from the SQL text).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from psycopg import AsyncConnection
from psycopg.conninfo import make_conninfo
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.settings import PlatformSettings

Connection = AsyncConnection[DictRow]
Pool = AsyncConnectionPool[Connection]


class DatabaseSettings(BaseSettings):
    """One service's sign-in: ``AAP_<SERVICE>_DATABASE_<FIELD>`` in the environment."""

    user: str | None = Field(default=None, description="The service's runtime role")
    password: SecretStr | None = Field(default=None, description="No default")
    pool_min: int = Field(default=1, ge=0, description="Connections kept open")
    pool_max: int = Field(default=10, ge=1, description="Connections at most, at peak")

    @classmethod
    def of(cls, service: str) -> DatabaseSettings:
        config = SettingsConfigDict(env_prefix=f"AAP_{service.upper()}_DATABASE_", extra="ignore")
        of_service: type[DatabaseSettings] = type(
            f"{service.title()}DatabaseSettings", (cls,), {"model_config": config}
        )
        return of_service()


def conninfo(platform: PlatformSettings, database: str, user: str, password: str) -> str:
    """How to reach ``database`` as ``user``: timestamps read back in UTC with their zone."""
    return make_conninfo(
        host=platform.database_host,
        port=platform.database_port,
        dbname=database,
        user=user,
        password=password,
        sslmode=platform.database_sslmode,
        options="-c TimeZone=UTC",
        connect_timeout=5,
    )


def pool_of(platform: PlatformSettings, service: str) -> Pool:
    """The service's pool, not yet open (``open`` at start-up; a database down is waited for)."""
    own = DatabaseSettings.of(service)
    if not (own.user and own.password):
        prefix = f"AAP_{service.upper()}_DATABASE_"
        raise ValueError(f"set {prefix}USER and {prefix}PASSWORD: the service's database role")
    return pool_as(platform, service, own.user, own.password.get_secret_value(), own)


def pool_as(
    platform: PlatformSettings,
    service: str,
    user: str,
    password: str,
    sizes: DatabaseSettings | None = None,
) -> Pool:
    """A pool of ``service``'s database signed in as ``user``, not yet open."""
    own = sizes or DatabaseSettings(user=user)
    info = conninfo(platform, platform.database_name(service), user, password)
    return AsyncConnectionPool(
        info + f" application_name=aap-{service}",
        connection_class=Connection,
        kwargs={"row_factory": dict_row},
        min_size=own.pool_min,
        max_size=own.pool_max,
        timeout=5,  # a request waits this long for a connection, then is answered 503
        open=False,
        name=service,
    )


@asynccontextmanager
async def transaction(pool: Pool) -> AsyncIterator[Connection]:
    """One connection of the pool, in one transaction: committed if the block ends normally,
    rolled back if it raises."""
    async with pool.connection() as conn, conn.transaction():
        yield conn


async def ping(pool: Pool) -> None:
    async with pool.connection() as conn:
        await conn.execute("SELECT 1")
