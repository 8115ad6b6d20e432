"""Published checkpoints in the audit service's own bucket: written once under COMPLIANCE
retention, by a user that may not delete (devkit.s3_access), so that whoever writes the log's
database cannot take a checkpoint back. With versioning, a second write under a key adds a
version and leaves the first: every object is read at its first version, whatever was put over
it since (the bucket's user can add versions; it cannot change the first).

    checkpoints/<tree size, 20 digits>.note     the C2SP signed note
    leaves/<first leaf, 20 digits>-<tree size>  the leaf hashes since the checkpoint before
    positions/<tree size>.json                  the highest source offset its entries hold,
                                                per topic and partition
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta

from audit.ports import PublishedNote
from contracts.merkle import HASH_SIZE
from contracts.types import utc_now
from servicekit.s3 import ObjectStore

NOTES, LEAVES, POSITIONS = "checkpoints/", "leaves/", "positions/"


class PublishedCheckpoints:
    def __init__(self, store: ObjectStore, retention: timedelta) -> None:
        self._store = store
        self._retention = retention

    async def publish(
        self,
        size: int,
        note: str,
        leaves: bytes,
        first_leaf: int,
        positions: Mapping[tuple[str, int], int],
    ) -> None:
        until = utc_now() + self._retention
        offsets: dict[str, dict[str, int]] = {}
        for (topic, partition), offset in positions.items():
            offsets.setdefault(topic, {})[str(partition)] = offset
        await self._store.put_locked(
            f"{POSITIONS}{size:020d}.json",
            json.dumps(offsets, sort_keys=True).encode(),
            "application/json",
            until=until,
            legal_hold=False,
        )
        # Leaves first: a checkpoint is never published without what it covers.
        await self._store.put_locked(
            f"{LEAVES}{first_leaf:020d}-{size:020d}",
            leaves,
            "application/octet-stream",
            until=until,
            legal_hold=False,
        )
        await self._store.put_locked(
            f"{NOTES}{size:020d}.note", note.encode(), "text/plain", until=until, legal_hold=False
        )

    async def positions(self, size: int) -> dict[tuple[str, int], int]:
        key = f"{POSITIONS}{size:020d}.json"
        versions = (await self._store.versions(key)).get(key)
        if not versions:
            return {}
        found = json.loads(await self._store.get(key, versions[0]))
        return {(t, int(p)): int(o) for t, parts in found.items() for p, o in parts.items()}

    async def notes(self, after: int = 0) -> list[PublishedNote]:
        """Every checkpoint published under a key of a tree larger than ``after`` leaves, in
        the keys' order (zero-padded sizes sort as numbers), each at its first version."""
        found = []
        for key, versions in (await self._store.versions(NOTES)).items():
            digits = key.removeprefix(NOTES).removesuffix(".note")
            size = int(digits) if digits.isdigit() and len(digits) == 20 else None
            if size is None or size > after:
                note = (await self._store.get(key, versions[0])).decode(errors="replace")
                found.append(PublishedNote(key, size, note))
        return found

    async def leaves(self, upto: int) -> AsyncIterator[bytes]:
        # A publication that failed after its leaves were written is retried with more leaves
        # from the same first one: batches may overlap, and each leaf is given once.
        given = 0
        for key, versions in (await self._store.versions(LEAVES)).items():
            try:
                first, last = (int(n) for n in key.removeprefix(LEAVES).partition("-")[::2])
            except ValueError:
                continue  # not a key this log writes: whoever put it, it covers nothing
            if first > given or given >= upto:
                return
            data = await self._store.get(key, versions[0])
            for i in range(given, min(last, upto)):
                offset = (i - first) * HASH_SIZE
                yield data[offset : offset + HASH_SIZE]
            given = max(given, min(last, upto))
