"""MongoDB through PyMongo's async API. Each service owns a database: ``<namespace>_<service>``."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]


def connect(url: str) -> AsyncMongoClient[Document]:
    # tz_aware: datetimes come back in UTC with their zone, as the contracts require.
    return AsyncMongoClient(url, tz_aware=True, serverSelectionTimeoutMS=5000)


async def ping(db: AsyncDatabase[Document]) -> None:
    await db.command("ping")
