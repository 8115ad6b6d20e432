"""The published checkpoints' layout in the write-once bucket, with an in-memory bucket."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from audit.adapters.checkpoint_store import PublishedCheckpoints


class Bucket:
    """A versioned bucket under COMPLIANCE locks: a write under a key adds a version."""

    def __init__(self) -> None:
        self.objects: dict[str, list[bytes]] = {}

    async def put_locked(
        self, key: str, data: bytes, media_type: str, *, until: datetime | None, legal_hold: bool
    ) -> None:
        assert until is not None  # every object under retention
        self.objects.setdefault(key, []).append(data)

    async def versions(self, prefix: str) -> dict[str, list[str]]:
        return {
            k: [str(n) for n in range(len(v))]
            for k, v in sorted(self.objects.items())
            if k.startswith(prefix)
        }

    async def get(self, key: str, version_id: str | None = None) -> bytes:
        return self.objects[key][int(version_id or -1)]


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
    assert [(n.size, n.note) for n in await store.notes()] == [(5, "note 5"), (9, "note 9")]
    assert await store.positions(9) == {("t", 0): 8}
    assert await store.positions(7) == {}


async def test_what_is_put_over_a_published_object_is_never_read() -> None:
    bucket = Bucket()
    store = PublishedCheckpoints(bucket, timedelta(days=1))  # type: ignore[arg-type]
    await store.publish(5, "note 5", run(range(0, 5)), 0, {("t", 0): 4})
    until = datetime.now()
    over = "leaves/00000000000000000000-00000000000000000005"
    await bucket.put_locked(over, run(range(10, 15)), "", until=until, legal_hold=False)
    await bucket.put_locked("checkpoints/00000000000000000005.note", b"forged", "", until=until,
                            legal_hold=False)  # fmt: skip
    await bucket.put_locked("leaves/not-ours", b"x", "", until=until, legal_hold=False)
    assert [x async for x in store.leaves(5)] == [leaf(i) for i in range(5)]
    assert [(n.size, n.note) for n in await store.notes()] == [(5, "note 5")]
    assert [n.size for n in await store.notes(after=5)] == []
