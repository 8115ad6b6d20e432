"""Ingest's own database: one row per upload, accepted or rejected, with why."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb
from pydantic_core import to_jsonable_python

from servicekit.database import Pool


class Submissions:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def record(
        self, submission_id: uuid.UUID, *, status: str, at: datetime, by: str, **details: Any
    ) -> None:
        # Each submission is recorded once, under its new id: an insert, no lookup first.
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO submissions (submission_id, status, submitted_at, submitted_by, "
                "details) VALUES (%s, %s, %s, %s, %s)",
                (submission_id, status, at, by, Jsonb(to_jsonable_python(details))),
            )
