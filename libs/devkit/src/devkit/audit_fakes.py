"""The audit log store's query as the database answers it, in memory: one fake for the registers
and reports the audit service builds from its entries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any


def matches(entry: dict[str, Any], filters: dict[str, Any]) -> bool:
    for path, wanted in filters.items():
        value: Any = entry
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(wanted, dict):
            if "$in" in wanted and value not in wanted["$in"]:
                return False
            if "$gte" in wanted and not value >= wanted["$gte"]:
                return False
            if "$lt" in wanted and not value < wanted["$lt"]:
                return False
        elif isinstance(value, list):
            if wanted not in value:
                return False
        elif value != wanted:
            return False
    return True


class Entries:
    """The log store's query, as the database answers it (only what the register asks)."""

    def __init__(self, *entries: dict[str, Any]) -> None:
        self.entries = [e | {"seq": n} for n, e in enumerate(entries, 1)]

    async def query(self, filters: dict[str, Any], after_seq: int, limit: int) -> list[Any]:
        found = [e for e in self.entries if e["seq"] > after_seq and matches(e, filters)]
        return found[:limit]

    async def all_in_order(self, batch: int = 1000) -> AsyncIterator[dict[str, Any]]:
        for e in self.entries:
            yield e
