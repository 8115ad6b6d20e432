"""Evidence an auditor can prove: the audit log's Merkle tree, its signed checkpoints published
to the write-once bucket, proofs checked with nothing but the proof, and verify naming the first
entry that disagrees after each tampering a database administrator could do.

In a namespace of its own: the tampering must not reach the other tests' audit log.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import io
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from minio.commonconfig import COMPLIANCE
from minio.retention import Retention
from pydantic import SecretStr

from audit.adapters.log_store import LogStore
from audit.app import create_app as audit_app
from audit.settings import AuditSettings
from contracts.checkpoint import Checkpoint, Verifier
from contracts.envelope import new_event
from contracts.events import RoleAssigned
from contracts.merkle import verify_consistency, verify_inclusion
from contracts.topics import CHECKPOINTS, ROLES_ASSIGNED, source_of
from contracts.trail import entry_hash, leaf_of
from devkit import pg_access, s3_access
from devkit.identity import as_user
from devkit.namespace import discard, provision
from devkit.send import EventSender
from devkit.testing import InProcessPermission, running
from devkit.watch import EventWatcher, consumed, of_type
from servicekit import s3
from servicekit.database import Pool
from servicekit.settings import PlatformSettings

AUDITOR = as_user("auditor-all")
Entries = list[dict[str, Any]]


@dataclass
class Log:
    http: httpx.AsyncClient
    platform: PlatformSettings
    out: EventSender
    watch: EventWatcher
    entries: Pool  # the audit database, as the strongest writer reaches it
    sent: int = 0

    async def append(self, count: int) -> None:
        """``count`` events recorded, each its own entry; the consumer group has read them."""
        for _ in range(count):
            self.sent += 1
            data = RoleAssigned(
                user=f"user{self.sent}",
                role="auditor",
                fonds_code="Q9",
                assigned_by="secadmin",
                assigned_at=datetime.now(UTC),
            )
            await self.out.send(
                new_event(data, source=source_of("permission"), subject="s", correlation_id="c")
            )
        ns = self.platform.namespace
        await consumed(self.platform.kafka_bootstrap, ns, "audit", [ROLES_ASSIGNED])

    async def checkpoint(self, size: int) -> Checkpoint:
        """The checkpoint of ``size`` entries, once published (on Kafka, after the bucket)."""
        [published] = await self.watch.wait_for(of_type("CheckpointPublished", tree_size=size))
        self.notes[size] = published.data["note"]
        return Checkpoint.open(published.data["note"], await self.key())

    async def key(self) -> Verifier:
        r = await self.http.get("/v1/checkpoint/key", headers=AUDITOR)
        return Verifier.parse(r.json()["verifier_key"])

    async def verify(self) -> dict[str, Any]:
        r = await self.http.get("/v1/verify", headers=AUDITOR)
        assert r.status_code == 200, r.text
        answer: dict[str, Any] = r.json()
        return answer

    async def stored(self) -> list[dict[str, Any]]:
        return [d async for d in LogStore(self.entries).all_in_order()]

    async def tampered(self, change: Callable[[Entries], Entries]) -> None:
        """Replace the stored entries by ``change`` of the original ones, as the strongest
        database writer could (``pg_access.beyond_its_rules``)."""
        await self.deleted_after(0)
        if changed := change(copy.deepcopy(list(self.original))):
            await LogStore(self.entries).append(changed)

    async def deleted_after(self, seq: int) -> None:
        async with self.entries.connection() as conn:
            await conn.execute("DELETE FROM entries WHERE seq > %s", (seq,))

    original: tuple[dict[str, Any], ...] = ()
    notes: dict[int, str] = field(default_factory=dict)  # each checkpoint's note, by size


def rechained(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a careful forger does after changing entries: renumber and recompute every hash."""
    prev = "0" * 64
    for seq, entry in enumerate(entries, start=1):
        entry["seq"], entry["prev_hash"] = seq, prev
        entry["hash"] = prev = entry_hash(entry)
    return entries


@pytest.fixture
async def log(
    platform: PlatformSettings,
    permission: InProcessPermission,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Log]:
    """The audit service on a namespace of its own: a checkpoint every 5 entries, and every
    second while entries await one (or as often as the test's parameter says)."""
    ns = "ev" + secrets.token_hex(3)
    await provision(platform, ns)
    for name, value in pg_access.namespace_env(ns).items():  # its own database's roles
        monkeypatch.setenv(name, value)
    mine = platform.model_copy(update={"namespace": ns})
    seconds = getattr(request, "param", 1)
    settings = AuditSettings(platform=mine, checkpoint_entries=5, checkpoint_seconds=seconds)
    try:
        async with (
            running(audit_app(settings, permission_transport=permission.transport)) as http,
            EventSender(mine.kafka_bootstrap, ns) as out,
            EventWatcher(mine.kafka_bootstrap, ns, [CHECKPOINTS]) as watch,
            pg_access.beyond_its_rules(mine, "audit") as entries,
        ):
            yield Log(http, mine, out, watch, entries)
    finally:
        await discard(platform, ns)


async def test_checkpoints_are_signed_published_and_proofs_check_offline(log: Log) -> None:
    await log.append(5)
    five = await log.checkpoint(5)  # five entries await one: published at once
    await log.append(2)
    seven = await log.checkpoint(7)  # within checkpoint_seconds of the last append
    assert five.origin == seven.origin == f"aap.{log.platform.namespace}.audit"
    r = await log.http.get("/v1/checkpoint", headers=AUDITOR)
    assert Checkpoint.open(r.text, await log.key()) == seven

    entries = await log.stored()
    third = await log.http.get(
        "/v1/proofs/inclusion", params={"seq": 3, "tree_size": 7}, headers=AUDITOR
    )
    proof = third.json()
    path = [base64.b64decode(h) for h in proof["path"]]
    verify_inclusion(leaf_of(entries[2]), 2, 7, path, seven.root)  # the entry as exported
    grew = await log.http.get(
        "/v1/proofs/consistency", params={"from": 5, "to": 7}, headers=AUDITOR
    )
    path = [base64.b64decode(h) for h in grew.json()["path"]]
    verify_consistency(5, 7, five.root, seven.root, path)  # what was published stays in

    verified = await log.verify()
    assert verified["ok"] is True and verified["checkpoint"]["tree_size"] == 7, verified
    # Proofs are hashes, for auditors; someone else gets nothing.
    refused = await log.http.get(
        "/v1/proofs/inclusion", params={"seq": 3, "tree_size": 7}, headers=as_user("liuyang")
    )
    assert refused.status_code == 403
    beyond = await log.http.get(
        "/v1/proofs/inclusion", params={"seq": 3, "tree_size": 70}, headers=AUDITOR
    )
    assert beyond.status_code == 422 and "1 to 7 entries" in beyond.text


async def test_verify_names_the_first_entry_each_tampering_breaks(log: Log) -> None:
    await log.append(5)
    await log.checkpoint(5)
    await log.append(2)
    seven = await log.checkpoint(7)
    log.original = tuple(await log.stored())

    def rewritten(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        entries[2]["data"]["user"] = "forger"  # entry 3 says another principal got the role
        return rechained(entries)

    def reordered(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        entries[1], entries[2] = entries[2], entries[1]
        return rechained(entries)

    cases = {
        "an entry rewritten, every hash after it recomputed": (rewritten, 3, "differs from"),
        "two entries swapped, renumbered and rechained": (reordered, 2, "differs from"),
        "the tail deleted": (lambda e: e[:4], 5, "missing"),
        "everything deleted": (lambda e: [], 1, "missing"),
    }
    for case, (change, seq, words) in cases.items():
        await log.tampered(change)
        found = await log.verify()
        assert found["ok"] is False, case
        assert found["first_broken_seq"] == seq and words in found["reason"], (case, found)
        assert found["checkpoint"]["tree_size"] == seven.size

    # A fork: the history from entry 4 on replaced by another, chained on from entry 3. An
    # auditor handed entry 4 of the fork cannot prove it into the published tree.
    def fork(entries: Entries) -> Entries:
        entries[3]["data"]["user"] = "forger"
        return rechained(entries)

    await log.tampered(fork)
    forked = (await log.stored())[3]
    assert forked["prev_hash"] == log.original[2]["hash"] != forked["hash"]
    proof = await log.http.get(
        "/v1/proofs/inclusion", params={"seq": 4, "tree_size": 7}, headers=AUDITOR
    )
    path = [base64.b64decode(h) for h in proof.json()["path"]]
    with pytest.raises(Exception, match="another root"):
        verify_inclusion(leaf_of(forked), 3, 7, path, seven.root)
    found = await log.verify()
    assert found["first_broken_seq"] == 4 and "differs from" in found["reason"], found

    # Restored as it was: the log verifies again.
    await log.tampered(lambda e: e)
    assert (await log.verify())["ok"] is True


async def test_entries_deleted_after_the_last_checkpoint_are_caught_by_the_next(log: Log) -> None:
    await log.append(5)
    await log.checkpoint(5)
    await log.append(2)  # entries 6 and 7, awaiting their checkpoint
    await log.deleted_after(5)
    # The appender published what it appended, not what the database holds now.
    seven = await log.checkpoint(7)
    found = await log.verify()
    assert found["ok"] is False and found["first_broken_seq"] == 6, found
    assert "missing" in found["reason"] and seven.size == 7


@pytest.mark.parametrize("log", [3600], indirect=True)  # no checkpoint by time: by count only
async def test_entries_deleted_after_the_last_checkpoint_are_caught_from_the_broker(
    log: Log,
) -> None:
    """Before any later checkpoint: the consumer group's committed offsets on the broker say
    two more events were consumed than the log holds."""
    await log.append(5)
    await log.checkpoint(5)
    await log.append(2)
    assert (await log.verify())["ok"] is True
    await log.deleted_after(5)
    found = await log.verify()
    assert found["ok"] is False and found["first_broken_seq"] == 6, found
    assert "was consumed but is not in the log" in found["reason"]
    assert found["checkpoint"]["tree_size"] == 5  # no checkpoint of 7 was published


async def test_an_older_checkpoint_put_back_by_the_logs_own_s3_user_proves_nothing(
    log: Log,
) -> None:
    """Once, the audit service's S3 user put the checkpoint of 5 entries over the newest key,
    and under a key larger than any: each time verify took it, and passed a log rewritten after
    entry 5. Now each checkpoint is read as first written, and must be the size its key says."""
    await log.append(5)
    await log.checkpoint(5)
    await log.append(2)
    seven = await log.checkpoint(7)
    log.original = tuple(await log.stored())

    def rewritten_after_five(entries: Entries) -> Entries:
        entries[5]["data"]["user"] = "forger"  # entry 6: another principal got the role
        return rechained(entries)

    await log.tampered(rewritten_after_five)
    env = s3_access.client_env("audit", log.platform.namespace)
    as_audit_user = log.platform.model_copy(
        update={
            "s3_access_key": env["AAP_S3_ACCESS_KEY"],
            "s3_secret_key": SecretStr(env["AAP_S3_SECRET_KEY"]),
        }
    )
    bucket = s3.connect(as_audit_user)
    name = log.platform.bucket_name("audit-checkpoints")
    older = log.notes[5].encode()

    def put(key: str) -> None:
        until = datetime.now(UTC) + timedelta(days=1)
        bucket.put_object(name, key, io.BytesIO(older), len(older),
                          retention=Retention(COMPLIANCE, until))  # fmt: skip

    await asyncio.to_thread(put, f"checkpoints/{7:020d}.note")  # over the newest
    found = await log.verify()
    assert found["ok"] is False and found["first_broken_seq"] == 6, found
    assert found["checkpoint"]["tree_size"] == seven.size  # the first version, not the one put
    await asyncio.to_thread(put, f"checkpoints/{999:020d}.note")  # under a larger key
    found = await log.verify()
    assert found["ok"] is False and found["checkpoint"] is None, found
    assert found["reason"] == (
        "a published checkpoint is not trusted: checkpoints/00000000000000000999.note holds a "
        "checkpoint of 5 entries: a checkpoint published under another tree's key"
    )
    refused = await log.http.get("/v1/checkpoint", headers=AUDITOR)
    assert refused.status_code == 409 and "is not trusted" in refused.json()["detail"]
