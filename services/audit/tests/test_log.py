"""The audit log's appender and checkpoints with in-memory stores: checkpoints every N entries,
proofs that check against them, and a tree kept whole when a node write fails midway."""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from audit.checkpoints import Checkpoints
from audit.ports import PublishedNote
from audit.service import AuditService
from contracts.checkpoint import Checkpoint, Signer
from contracts.envelope import AnyEnvelope
from contracts.merkle import Hash, Node, verify_consistency, verify_inclusion
from contracts.trail import GENESIS_HASH, entry_hash, leaf_of
from devkit.testing import RecordingPublisher

SIGNER = Signer.generate("aap.unit.audit")


def event(n: int) -> AnyEnvelope:
    return AnyEnvelope(
        id=uuid.uuid4(),
        source="/aap/permission",
        type="cn.aap.RoleAssigned.v1",
        time=datetime(2026, 11, 29, 1, 0, n, tzinfo=UTC),
        subject=f"u-{n}",
        correlationid="c",
        actor="安全管理员",
        data={"user": f"u-{n}", "role": "auditor", "fonds_code": "Q9"},
    )


class Entries:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    async def head(self) -> dict[str, Any] | None:
        return copy.deepcopy(self.entries[-1]) if self.entries else None

    async def has_event(self, event_id: str) -> bool:
        return any(e["event_id"] == event_id for e in self.entries)

    async def events_present(self, event_ids: list[str]) -> set[str]:
        return {e["event_id"] for e in self.entries} & set(event_ids)

    async def fonds_of_records(self, record_ids: list[str]) -> list[str]:
        return []

    async def append(self, entries: Sequence[dict[str, Any]]) -> int:
        for stored, entry in enumerate(entries):
            if any(
                e["seq"] == entry["seq"] or e["event_id"] == entry["event_id"] for e in self.entries
            ):
                return stored  # as the unique indexes stop an ordered insert
            self.entries.append(copy.deepcopy(entry))
        return len(entries)

    async def query(self, filters: dict[str, Any], after_seq: int, limit: int) -> list[Any]:
        return [e for e in self.entries if e["seq"] > after_seq][:limit]

    async def all_in_order(self, batch: int = 1000) -> AsyncIterator[dict[str, Any]]:
        for e in sorted(self.entries, key=lambda e: e["seq"]):
            yield copy.deepcopy(e)


class Nodes:
    def __init__(self) -> None:
        self.nodes: dict[Node, Hash] = {}
        self.down = False
        self.rebuilds = 0

    async def keep(self, nodes: Iterable[tuple[int, int, Hash]], rebuilding: bool = False) -> None:
        self.rebuilds += rebuilding
        if self.down:
            raise ConnectionError("database unavailable")
        self.nodes |= {(level, index): h for level, index, h in nodes}

    async def hashes(self, nodes: Iterable[Node]) -> dict[Node, Hash]:
        return {n: self.nodes[n] for n in nodes if n in self.nodes}


class Published:
    """The write-once bucket: a write under a key adds a version, the first stays."""

    def __init__(self) -> None:
        self.versions: dict[int, list[str]] = {}  # by the tree size a key names
        self.leaf_hashes: list[Hash] = []
        self.offsets: dict[int, dict[tuple[str, int], int]] = {}

    @property
    def kept(self) -> dict[int, str]:
        """Each key's note as first written."""
        return {size: versions[0] for size, versions in self.versions.items()}

    def put_note(self, size: int, note: str) -> None:
        """What the bucket's user can do: put under any key, a new version over an old one."""
        self.versions.setdefault(size, []).append(note)

    async def publish(
        self,
        size: int,
        note: str,
        leaves: bytes,
        first_leaf: int,
        positions: Mapping[tuple[str, int], int],
    ) -> None:
        assert first_leaf == len(self.leaf_hashes), "each checkpoint continues the last"
        self.leaf_hashes += [leaves[i : i + 32] for i in range(0, len(leaves), 32)]
        self.put_note(size, note)
        self.offsets[size] = dict(positions)

    async def positions(self, size: int) -> dict[tuple[str, int], int]:
        return self.offsets.get(size, {})

    async def notes(self, after: int = 0) -> list[PublishedNote]:
        return [
            PublishedNote(f"checkpoints/{size:020d}.note", size, versions[0])
            for size, versions in sorted(self.versions.items())
            if size > after
        ]

    async def leaves(self, upto: int) -> AsyncIterator[bytes]:
        for leaf in self.leaf_hashes[:upto]:
            yield leaf


def log() -> tuple[Checkpoints, AuditService, Entries, Nodes, Published]:
    entries, nodes, published = Entries(), Nodes(), Published()
    service = AuditService(entries, nodes)
    checkpoints = Checkpoints(
        service, published, SIGNER, "aap.unit.audit", RecordingPublisher(), "/aap/audit", 5
    )
    return checkpoints, service, entries, nodes, published


async def test_a_checkpoint_every_five_entries_and_proofs_that_check_against_them() -> None:
    checkpoints, service, entries, _, published = log()
    await checkpoints.start()
    for n in range(7):
        await checkpoints.record(event(n))
    assert list(published.kept) == [5]
    assert await checkpoints.publish() == 7 and await checkpoints.publish() is None
    five, seven = (Checkpoint.open(published.kept[s], SIGNER.verifier()) for s in (5, 7))
    assert published.leaf_hashes == [leaf_of(e) for e in entries.entries]
    leaf, path = await service.inclusion(3, 7)
    verify_inclusion(leaf, 2, 7, path, seven.root)
    verify_consistency(5, 7, five.root, seven.root, await service.consistency(5, 7))
    assert (await checkpoints.verify()).ok


async def test_a_failed_node_write_leaves_the_tree_rebuilt_from_the_entries() -> None:
    checkpoints, service, entries, nodes, published = log()
    await checkpoints.start()
    for n in range(2):
        await checkpoints.record(event(n))
    nodes.down = True
    third = event(2)
    with pytest.raises(ConnectionError):
        await checkpoints.record(third)  # the entry is kept, its nodes are not
    nodes.down = False
    await checkpoints.record(third)  # redelivered: recorded already, nothing appended
    await checkpoints.record(event(3))
    assert [e["seq"] for e in entries.entries] == [1, 2, 3, 4]
    assert await checkpoints.publish() == 4
    four = Checkpoint.open(published.kept[4], SIGNER.verifier())
    for seq in range(1, 5):
        leaf, path = await service.inclusion(seq, 4)
        assert leaf == leaf_of(entries.entries[seq - 1])
        verify_inclusion(leaf, seq - 1, 4, path, four.root)


async def test_verify_names_a_rewritten_entry_even_with_every_hash_recomputed() -> None:
    checkpoints, _, entries, _, _ = log()
    await checkpoints.start()
    for n in range(5):
        await checkpoints.record(event(n))
    entries.entries[1]["data"]["role"] = "security_admin"  # entry 2 says more than was given
    prev = GENESIS_HASH
    for entry in entries.entries:  # …and every hash after it recomputed, as a forger would
        entry["prev_hash"] = prev
        entry["hash"] = prev = entry_hash(entry)
    found = await checkpoints.verify()
    assert not found.ok and found.first_broken_seq == 2, found
    assert found.reason is not None and "published checkpoint of 5" in found.reason


async def test_a_batch_is_appended_once_each_in_order_whatever_it_repeats() -> None:
    checkpoints, service, entries, _, published = log()
    await checkpoints.start()
    events = [event(n) for n in range(4)]
    await checkpoints.record(events[0])
    # A batch redelivered in part (event 0 again, event 2 twice), as a consumer's can be.
    batch = [events[1], events[0], events[2], events[2], events[3]]
    await checkpoints.record_all([(e, ("t", 0, n)) for n, e in enumerate(batch)])
    assert [e["event_id"] for e in entries.entries] == [str(e.id) for e in events]
    assert [e["seq"] for e in entries.entries] == [1, 2, 3, 4]
    assert [e["position"] for e in entries.entries[1:]] == [["t", 0, 0], ["t", 0, 2], ["t", 0, 4]]
    assert (await checkpoints.verify()).ok
    assert await checkpoints.publish() == 4
    four = Checkpoint.open(published.kept[4], SIGNER.verifier())
    leaf, path = await service.inclusion(4, 4)
    verify_inclusion(leaf, 3, 4, path, four.root)


async def test_a_batch_after_another_writers_entry_goes_on_from_its_head() -> None:
    checkpoints, _, entries, nodes, _ = log()
    await checkpoints.start()
    await checkpoints.record(event(0))
    other = AuditService(entries, nodes)  # a second appender, which must not exist
    await other.record(event(1))
    await checkpoints.record_all([(event(2), None), (event(3), None)])
    assert [e["seq"] for e in entries.entries] == [1, 2, 3, 4]
    assert entries.entries[2]["prev_hash"] == entries.entries[1]["hash"]
    assert (await checkpoints.verify()).ok


async def test_a_redelivered_event_appends_nothing_and_keeps_the_tree() -> None:
    """Found in CI: each redelivery rebuilt the tree from every entry, minutes on a long log."""
    checkpoints, _, entries, nodes, _ = log()
    await checkpoints.start()
    first = event(0)
    await checkpoints.record(first)
    rebuilt = nodes.rebuilds
    for _ in range(3):
        await checkpoints.record(first)  # redelivered
    await checkpoints.record(event(1))
    assert [e["seq"] for e in entries.entries] == [1, 2]
    assert nodes.rebuilds == rebuilt


async def test_an_older_checkpoint_put_over_the_newest_or_under_a_newer_key_proves_nothing() -> (
    None
):
    """Once, the audit service's S3 user put the checkpoint of 5 entries under a larger key,
    and as a new version of the newest: verify then took it, and passed a log rewritten after
    it. Now each checkpoint is read as first written, must be of the size its key names, and
    proven consistent with the one before; one that is not is an alert."""
    checkpoints, _, entries, _, published = log()
    await checkpoints.start()
    for n in range(7):
        await checkpoints.record(event(n))
    assert await checkpoints.publish() == 7
    entries.entries[5]["data"]["role"] = "security_admin"  # entry 6, after checkpoint 5
    prev = GENESIS_HASH
    for entry in entries.entries:
        entry["prev_hash"] = prev
        entry["hash"] = prev = entry_hash(entry)
    five = published.kept[5]
    published.put_note(7, five)  # a new version over the newest: the first stays
    found = await checkpoints.verify()
    assert not found.ok and found.first_broken_seq == 6, found
    assert found.checkpoint is not None and found.checkpoint.size == 7
    published.put_note(9, five)  # under a newer key
    found = await checkpoints.verify()
    assert not found.ok and found.checkpoint is None, found
    assert found.reason == (
        "a published checkpoint is not trusted: checkpoints/00000000000000000009.note holds a "
        "checkpoint of 5 entries: a checkpoint published under another tree's key"
    )


async def test_a_checkpoint_of_another_history_is_refused_though_validly_signed() -> None:
    """A fork signed with the log's own key (a log rebuilt from rewritten entries and signed
    anew) is not consistent with what was published before it: an alert, not the newest."""
    checkpoints, _, _, _, published = log()
    await checkpoints.start()
    for n in range(5):
        await checkpoints.record(event(n))
    other = AuditService(Entries(), Nodes())
    for n in range(10, 19):
        await other.record(event(n))
    fork = Checkpoint("aap.unit.audit", 9, await other.root(9), datetime.now(UTC))
    published.put_note(9, fork.signed(SIGNER))
    for n in range(5, 9):
        await checkpoints.record(event(n))  # the log itself has grown to 9 meanwhile
    found = await checkpoints.verify()
    assert not found.ok and found.reason is not None, found
    assert "checkpoint of 9 entries is not proven consistent with the one of 5" in found.reason
