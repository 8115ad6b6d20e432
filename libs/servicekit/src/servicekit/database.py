"""PostgreSQL, the system of record, through psycopg 3 and its async pool.

Each service owns one database (``<namespace>_<service>``) and signs in with a login role of its
own, whose privileges the migrations grant table by table (``servicekit.migrations``); the
tables belong to a separate schema role. psycopg 3, because one driver serves both the services
(async, pooled) and the migration tool (yoyo, sync), and its statements are parameterised by the
server (``%s`` placeholders sent apart from the SQL text).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol

from psycopg import AsyncConnection
from psycopg.conninfo import make_conninfo
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.settings import PlatformSettings

Connection = AsyncConnection[DictRow]


@dataclass
class _Unit:
    pool: AsyncConnectionPool[Connection]
    conn: Connection
    task: asyncio.Task[object] | None
    after_commit: list[Callable[[], None]] = field(default_factory=list)


_unit: ContextVar[_Unit | None] = ContextVar("unit_of_work", default=None)


class Pool(AsyncConnectionPool[Connection]):
    """The service's pool. Inside a unit of work (``unit_of_work``) on this pool, every
    ``connection()`` of the same task is the unit's own: the adapters' statements join its
    transaction without being handed a connection, so a use case commits its state and its
    events (``servicekit.outbox``) together and the adapters' signatures do not change.
    Another task (one ``asyncio.gather`` started) is given a connection of its own."""

    @asynccontextmanager
    async def connection(self, timeout: float | None = None) -> AsyncIterator[Connection]:
        unit = _unit.get()
        if unit is not None and unit.pool is self and unit.task is asyncio.current_task():
            yield unit.conn
            return
        async with super().connection(timeout) as conn:
            yield conn


class UnitOfWork(Protocol):
    """What a use case opens around work that must be done whole: ``async with unit():``."""

    def __call__(self) -> AbstractAsyncContextManager[None]: ...


def unit_of_work(pool: Pool) -> UnitOfWork:
    """Units of work on ``pool``: one transaction around everything its adapters do inside
    the block (a nested unit is a savepoint), committed if the block ends normally."""

    @asynccontextmanager
    async def unit() -> AsyncIterator[None]:
        outer = _unit.get()
        if outer is not None and outer.pool is pool and outer.task is asyncio.current_task():
            async with outer.conn.transaction():
                yield
            return
        async with AsyncConnectionPool.connection(pool) as conn:
            here = _Unit(pool, conn, asyncio.current_task())
            token = _unit.set(here)
            try:
                async with conn.transaction():
                    yield
            finally:
                _unit.reset(token)
        for callback in here.after_commit:
            callback()

    return unit


def after_commit(callback: Callable[[], None]) -> None:
    """Call ``callback`` once the current unit of work commits (at once outside of one)."""
    unit = _unit.get()
    if unit is None or unit.task is not asyncio.current_task():
        callback()
    else:
        unit.after_commit.append(callback)


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
    return Pool(
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
