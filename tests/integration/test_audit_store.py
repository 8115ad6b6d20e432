"""The audit log on the real database: a batch that repeats an event already recorded is
appended whole, every other event once, with no gap in the chain.

Found when CI lost a role change from the trail (an earlier engine went on after a clash in an
ordered insert): an append stores the entries before the first clash, says how many, and the
service appends the rest after it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from audit.adapters.log_store import LogStore
from audit.adapters.tree_store import TreeNodes
from audit.service import AuditService
from contracts.envelope import AnyEnvelope
from contracts.merkle import verify_inclusion
from contracts.trail import GENESIS_HASH, entry_hash, leaf_of
from devkit import pg_access
from servicekit.database import Pool
from servicekit.settings import PlatformSettings


def event(n: int) -> AnyEnvelope:
    return AnyEnvelope(
        id=uuid.uuid4(),
        source="/aap/permission",
        type="cn.aap.RoleAssigned.v1",
        time=datetime(2026, 11, 29, 1, 0, n % 60, tzinfo=UTC),
        subject=f"u-{n}",
        correlationid="c",
        actor="secadmin",
        data={"user": f"u-{n}", "role": "auditor", "fonds_code": "Q9"},
    )


@pytest.fixture
async def db(platform: PlatformSettings) -> AsyncIterator[Pool]:
    """An audit database of this test's own: its log starts empty."""
    async with pg_access.scratch(platform, "audit") as pool:
        yield pool


async def test_a_batch_repeating_a_recorded_event_is_appended_whole_without_gaps(
    db: Pool,
) -> None:
    store, tree = LogStore(db), TreeNodes(db)
    log = AuditService(store, tree)
    await log.start(0)
    first = [event(n) for n in range(10)]
    await log.record_all([(e, None) for e in first])
    # A consumer restarted: its next batch of 300 repeats one it had recorded, mid-batch.
    batch = [event(n) for n in range(10, 310)]
    batch[150] = first[3]
    await log.record_all([(e, None) for e in batch])

    entries = [e async for e in store.all_in_order()]
    assert [e["seq"] for e in entries] == list(range(1, 310))  # 10 + 299 new, no gap
    recorded = [e["event_id"] for e in entries]
    expected = [str(e.id) for e in first] + [str(e.id) for i, e in enumerate(batch) if i != 150]
    assert recorded == expected  # each once, in the order read
    previous = GENESIS_HASH
    for entry in entries:
        assert entry["prev_hash"] == previous and entry["hash"] == entry_hash(entry)
        previous = entry["hash"]
    # The tree holds them all: the last entry is in the tree of 309.
    leaf, path = await log.inclusion(309, 309)
    assert leaf == leaf_of(entries[-1])
    verify_inclusion(leaf, 308, 309, path, await log.root(309))  # raises ProofError if not


async def test_an_append_stops_at_the_first_clash_and_says_how_many_it_stored(
    db: Pool,
) -> None:
    store = LogStore(db)
    entries = [
        {"event_id": f"e{n}", "seq": n, "hash": "h", "event_type": "t", "time": "2026-12-07",
         "record_ids": [], "fonds_codes": [], "data": {}}
        for n in range(1, 251)
    ]  # fmt: skip
    assert await store.append(entries[:10]) == 10
    repeat = [*entries[10:15], entries[2], *entries[15:]]  # e3 again, sixth of the batch
    repeat = [e | {"seq": 11 + i} for i, e in enumerate(repeat)]
    assert await store.append(repeat) == 5
    assert [e["seq"] async for e in store.all_in_order()] == list(range(1, 16))
