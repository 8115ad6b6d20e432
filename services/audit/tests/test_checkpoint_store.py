"""The published checkpoints' layout in the write-once bucket, with an in-memory bucket."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from audit.adapters.checkpoint_store import PublishedCheckpoints


class Bucket:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    async def put_locked(
        self, key: str, data: bytes, media_type: str, *, until: datetime | None, legal_hold: bool
    ) -> None:
        assert until is not None  # every object under retention
        self.objects[key] = data

    async def keys(self, prefix: str) -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix))

    async def get(self, key: str, version_id: str | None = None) -> bytes:
        return self.objects[key]

    async def exists(self, key: str) -> bool:
        return key in self.objects


def leaf(i: int) -> bytes:
    return hashlib.sha256(str(i).encode()).digest()


def run(leaves: range) -> bytes:
    return b"".join(leaf(i) for i in leaves)


async def test_each_leaf_is_given_once_though_a_retried_publication_overlaps() -> None:
    bucket = Bucket()
    store = PublishedCheckpoints(bucket, timedelta(days=1))  # type: ignore[arg-type]
    positions: dict[tuple[str, int], int] = {("t", 0): 4}
    await store.publish(5, "note 5", run(range(0, 5)), 0, positions)
    # The next publication wrote its leaves, then failed before its note…
    await bucket.put_locked(
        "leaves/00000000000000000005-00000000000000000007",
        run(range(5, 7)),
        "",
        until=datetime.now(),
        legal_hold=False,
    )
    # …and was retried with more leaves from the same first one.
    await store.publish(9, "note 9", run(range(5, 9)), 5, {("t", 0): 8})
    got: list[Any] = [x async for x in store.leaves(9)]
    assert got == [leaf(i) for i in range(9)]
    assert [x async for x in store.leaves(6)] == [leaf(i) for i in range(6)]
    assert await store.newest() == (9, "note 9")
    assert await store.positions(9) == {("t", 0): 8}
    assert await store.positions(7) == {}
