"""Every read of archive records is on record (利用): who read which records, how, under which
grant and from where, as a ``RecordsAccessed`` event the audit log keeps. One event per request:
a search's page of results is one event, however many records it shows."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from archive.ports import Publisher
from contracts.envelope import new_event
from contracts.events import RecordsAccessed
from contracts.types import utc_now
from servicekit.auth import Person

Action = Literal["search", "view", "drill", "download", "register", "page", "copy"]


@dataclass(frozen=True)
class Reader(Person):
    """The authenticated principal reading, and the address the request came from."""

    address: str | None = None


class ReadLog:
    def __init__(self, publisher: Publisher, source: str) -> None:
        self._publisher = publisher
        self._source = source

    async def read(
        self,
        reader: Reader,
        action: Action,
        records: Iterable[tuple[uuid.UUID, str]],
        *,
        grant_id: uuid.UUID | None = None,
        original_sha256: str | None = None,
        query: Mapping[str, object] | None = None,
    ) -> None:
        """``records``: (record id, fonds code) of each record shown or handed out."""
        shown = list(records)
        data = RecordsAccessed(
            principal=reader.name,
            action=action,
            record_ids=tuple(r for r, _ in shown),
            fonds_codes=tuple(sorted({f for _, f in shown})),
            grant_id=grant_id,
            original_sha256=original_sha256,
            query={k: str(v) for k, v in (query or {}).items() if v is not None},
            client_address=reader.address,
            accessed_at=utc_now(),
        )
        subject = str(shown[0][0]) if len(shown) == 1 else reader.name
        event = new_event(
            data, source=self._source, subject=subject, correlation_id=subject, actor=reader.name
        )
        await self._publisher.publish(event)
