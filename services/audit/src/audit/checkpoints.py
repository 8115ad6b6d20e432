"""Signed checkpoints of the audit log, published where its operator cannot take them back, and
verification of the stored log against the newest of them.

A checkpoint is trusted only once proven: read at its first version, its tree the size its key
names, its signature the log's, and consistent with the one before it (an RFC 6962 consistency
proof from the log's tree, checked against both signed roots). One that fails is an alert that
verify reports, never passed over for another: an older checkpoint put under a newer key, or
over it as a new version, would otherwise let a log rewritten since pass as the newest.

Every ``every_entries`` entries or ``every_seconds`` (whichever comes first; the second bounds
how long a deleted tail can go unnoticed), the log signs a checkpoint of its tree and publishes
it with the leaf hashes it covers. A database writer who deletes the newest entries, rewrites an
entry and recomputes every hash after it, reorders entries or forks the log cannot make the log
match what was published: verify names the first entry that disagrees.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
from dataclasses import replace

import structlog

from audit.domain.chain import ChainVerifier, Position, Verification
from audit.ports import CheckpointStore, ConsumedEvents, PublishedNote, Publisher
from audit.service import AuditService, OutOfRange
from contracts.checkpoint import Checkpoint, NoteError, Signer
from contracts.envelope import AnyEnvelope, new_event
from contracts.events import CheckpointPublished, TrailExported
from contracts.merkle import Frontier, ProofError, verify_consistency
from contracts.trail import leaf_of
from contracts.types import utc_now

log = structlog.get_logger()


class UntrustedCheckpoint(Exception):
    """A published checkpoint that does not prove (see the module's doc): an alert."""

    def __str__(self) -> str:
        return f"a published checkpoint is not trusted: {super().__str__()}"


class Checkpoints:
    def __init__(
        self,
        log_: AuditService,
        store: CheckpointStore,
        signer: Signer,
        origin: str,
        publisher: Publisher,
        source: str,
        every_entries: int,
        consumed: ConsumedEvents | None = None,
    ) -> None:
        """``consumed``: what the broker says was consumed, to check the entries newer than
        the last checkpoint (None: only their chain is checked)."""
        self._consumed = consumed
        self._log = log_
        self._store = store
        self._signer = signer
        self._origin = origin
        self._publisher = publisher
        self._source = source
        self._every_entries = every_entries
        self._lock = asyncio.Lock()  # one publication at a time
        self._proving = asyncio.Lock()  # one walk of the published checkpoints at a time
        # The newest checkpoint proven so far, and its note: what is published never changes,
        # so each is proven once.
        self._proven: tuple[Checkpoint, str] | None = None

    @property
    def origin(self) -> str:
        return self._origin

    @property
    def verifier_key(self) -> str:
        return self._signer.verifier().text()

    async def start(self) -> None:
        """The log learns the size of the newest checkpoint it signed (as first written, of
        the size its key names: what a key merely names decides nothing) and rebuilds its tree;
        then every published checkpoint is proven against it. One that does not prove is an
        alert, logged here and reported by verify."""
        published = await self._store.notes()
        signed = [c.size for n in published if (c := self._signed(n)) is not None]
        await self._log.start(max(signed, default=0))
        try:
            await self._prove(published)
        except UntrustedCheckpoint as alert:
            log.error("audit log: a published checkpoint does not prove", alert=str(alert))

    async def record(self, event: AnyEnvelope, position: Position | None = None) -> None:
        """Append ``event`` (read at ``position``) to the log; publish a checkpoint once
        ``every_entries`` entries await one."""
        await self.record_all([(event, position)])

    async def record_all(self, events: Sequence[tuple[AnyEnvelope, Position | None]]) -> None:
        """The same for a batch consumer's events, appended in one go."""
        await self._log.record_all(events)
        if await self._log.awaiting() >= self._every_entries:
            await self.publish()

    async def publish(self) -> int | None:
        """Sign and publish a checkpoint of the tree as it stands, if it grew; its size."""
        async with self._lock:
            pending = await self._log.unpublished()
            if not pending.leaves:
                return None
            checkpoint = Checkpoint(self._origin, pending.size, pending.root, utc_now())
            note = checkpoint.signed(self._signer)
            await self._store.publish(
                pending.size,
                note,
                b"".join(pending.leaves),
                pending.first_leaf,
                pending.positions,
            )
            await self._log.published(pending.size)
            data = CheckpointPublished(
                origin=self._origin,
                tree_size=pending.size,
                root_hash=base64.b64encode(pending.root).decode(),
                note=note,
                signed_at=checkpoint.time,
            )
            await self._publisher.publish(
                new_event(data, source=self._source, subject=self._origin, correlation_id=note)
            )
            log.info("checkpoint published", tree_size=pending.size)
            return pending.size

    async def exported(self, principal: str, address: str | None) -> None:
        """An export of the whole trail is itself on record (``TrailExported``)."""
        data = TrailExported(
            principal=principal,
            entries_to=await self._log.size(),
            client_address=address,
            exported_at=utc_now(),
        )
        await self._publisher.publish(
            new_event(data, source=self._source, subject=principal, correlation_id=principal)
        )

    async def newest(self) -> tuple[Checkpoint, str] | None:
        """The newest published checkpoint and its note, once proven (see the module's doc);
        ``UntrustedCheckpoint`` names the first that is not."""
        return await self._prove(None)

    async def _prove(self, notes: list[PublishedNote] | None) -> tuple[Checkpoint, str] | None:
        """Walk the checkpoints published after the newest proven (``notes``, or as read now)."""
        async with self._proving:
            after = self._proven[0].size if self._proven else 0
            for published in notes if notes is not None else await self._store.notes(after):
                if published.size is not None and published.size <= after:
                    continue
                checkpoint = self._proved(published)
                if self._proven is not None:
                    await self._consistent(self._proven[0], checkpoint)
                self._proven = (checkpoint, published.note)
            return self._proven

    def _signed(self, published: PublishedNote) -> Checkpoint | None:
        try:
            return self._proved(published)
        except UntrustedCheckpoint:
            return None

    def _proved(self, published: PublishedNote) -> Checkpoint:
        try:
            checkpoint = Checkpoint.open(published.note, self._signer.verifier(), self._origin)
        except NoteError as error:
            raise UntrustedCheckpoint(f"{published.key} does not check: {error}") from error
        if checkpoint.size != published.size:
            raise UntrustedCheckpoint(
                f"{published.key} holds a checkpoint of {checkpoint.size} entries: a checkpoint "
                "published under another tree's key"
            )
        return checkpoint

    async def _consistent(self, before: Checkpoint, after: Checkpoint) -> None:
        try:
            proof = await self._log.consistency(before.size, after.size)
            verify_consistency(before.size, after.size, before.root, after.root, proof)
        except (ProofError, OutOfRange) as error:
            raise UntrustedCheckpoint(
                f"the checkpoint of {after.size} entries is not proven consistent with the one "
                f"of {before.size} (RFC 6962): {error}"
            ) from error

    async def verify(self) -> Verification:
        """The chain of the stored entries, and their leaves against the newest checkpoint:
        the first entry that disagrees with either."""
        chain, frontier = ChainVerifier(), Frontier()
        after: dict[tuple[str, int], list[tuple[int, int]]] = {}  # (offset, seq) past it
        try:
            newest = await self.newest()
        except UntrustedCheckpoint as alert:
            log.error("audit log: a published checkpoint does not prove", alert=str(alert))
            return _broken(chain, None, str(alert), None)
        checkpoint = newest[0] if newest else None
        covered = checkpoint.size if checkpoint else 0  # entries the checkpoint covers
        published = self._store.leaves(covered)
        async for entry in self._log.export():
            if not chain.check(entry):
                result = chain.result()
                return _broken(chain, result.first_broken_seq, result.reason, checkpoint)
            leaf = leaf_of(entry)
            if frontier.size < covered and leaf != await anext(published, None):
                return _broken(
                    chain,
                    frontier.size + 1,
                    f"differs from the entry the published checkpoint of {covered} entries covers",
                    checkpoint,
                )
            frontier.append(leaf)
            if frontier.size > covered and entry.get("position"):
                topic, partition, offset = entry["position"]
                after.setdefault((topic, partition), []).append((offset, frontier.size))
            if checkpoint and frontier.size == covered and frontier.root() != checkpoint.root:
                return _broken(
                    chain, None, "the root differs from the published checkpoint", checkpoint
                )
        if frontier.size < covered:
            return _broken(
                chain,
                frontier.size + 1,
                f"missing: the published checkpoint covers {covered} entries, "
                f"the log holds {frontier.size} (deleted)",
                checkpoint,
            )
        if self._consumed is not None:
            positions = await self._store.positions(covered) if checkpoint else {}
            missing = await self._unrecorded(positions)
            if missing:
                topic, partition, offset, event_id = missing[0]
                later = [s for o, s in after.get((topic, partition), []) if o > offset]
                seq = min(later) if later else frontier.size + 1
                return _broken(
                    chain,
                    seq,
                    f"missing: event {event_id} ({topic} partition {partition} offset {offset}) "
                    f"was consumed but is not in the log, nor {len(missing) - 1} more (deleted "
                    "after the last checkpoint)",
                    checkpoint,
                )
        return replace(chain.result(), checkpoint=checkpoint)

    async def _unrecorded(
        self, positions: dict[tuple[str, int], int]
    ) -> list[tuple[str, int, int, str | None]]:
        """The messages the broker says were consumed after the checkpoint's offsets whose
        event has no entry, first by offset."""
        assert self._consumed is not None
        consumed = [c for c in await self._consumed.after(positions) if c[3] is not None]
        present: set[str] = set()
        ids = sorted({str(c[3]) for c in consumed})
        for i in range(0, len(ids), 1000):
            present |= await self._log.events_present(ids[i : i + 1000])
        return sorted((c for c in consumed if c[3] not in present), key=lambda c: c[2])


def _broken(
    chain: ChainVerifier, seq: int | None, reason: str | None, checkpoint: Checkpoint | None
) -> Verification:
    log.error("audit log does not verify", seq=seq, reason=reason)
    result = chain.result()
    return replace(result, ok=False, first_broken_seq=seq, reason=reason, checkpoint=checkpoint)
