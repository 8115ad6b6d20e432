"""The audit log as a hash chain: each entry carries the hash of the one before it.

An entry's hash is SHA-256 over the canonical JSON of all its other fields (``contracts.trail``),
which include ``prev_hash``. Altering, removing or reordering any entry breaks the
chain at that entry; ``verify`` names the first broken link.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from contracts.checkpoint import Checkpoint
from contracts.envelope import AnyEnvelope
from contracts.trail import GENESIS_HASH, entry_hash

Position = tuple[str, int, int]  # topic, partition, offset
# Data fields through which an event names the archive records it concerns.
RECORD_REF_FIELDS = ("record_id", "record_ids", "document_id")


def iso(dt: datetime) -> str:
    """One fixed text form for times, so stored entries compare and hash the same everywhere."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_ids_of(data: Mapping[str, Any]) -> list[str]:
    ids: list[str] = []
    for name in RECORD_REF_FIELDS:
        value = data.get(name)
        if isinstance(value, str):
            ids.append(value)
        elif isinstance(value, list):
            ids.extend(str(v) for v in value)
    return sorted(set(ids))


def fonds_named(data: Mapping[str, Any]) -> list[str]:
    """The fonds (全宗) an event names itself; events that name only records take theirs from
    the entries that archived them (AuditService)."""
    value, values = data.get("fonds_code"), data.get("fonds_codes")
    named = [value] if isinstance(value, str) and value else []
    if isinstance(values, list):
        named += [v for v in values if isinstance(v, str) and v]
    return sorted(set(named))


def next_entry(
    previous: Mapping[str, Any] | None,
    event: AnyEnvelope,
    recorded_at: datetime,
    fonds_codes: Iterable[str] = (),
    position: Position | None = None,
) -> dict[str, Any]:
    """The entry that records ``event`` after ``previous`` (None for the first entry);
    ``fonds_codes``: the fonds it concerns, by which an auditor of a fonds reads the trail;
    ``position``: where it was read from (topic, partition, offset), by which verify checks
    the log against what the broker says the audit service consumed."""
    entry: dict[str, Any] = {
        "seq": 1 if previous is None else int(previous["seq"]) + 1,
        "event_id": str(event.id),
        "event_type": event.type,
        "source": event.source,
        "subject": event.subject,
        "actor": event.actor,
        "time": iso(event.time),
        "correlation_id": event.correlationid,
        "causation_id": event.causationid,
        "traceparent": event.traceparent,
        "record_ids": record_ids_of(event.data),
        "fonds_codes": sorted(set(fonds_codes)),
        "position": list(position) if position else None,
        "data": event.data,
        "recorded_at": iso(recorded_at),
        "prev_hash": GENESIS_HASH if previous is None else previous["hash"],
    }
    entry["hash"] = entry_hash(entry)
    return entry


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries_checked: int
    head_seq: int
    head_hash: str
    first_broken_seq: int | None = None
    reason: str | None = None
    checkpoint: Checkpoint | None = None  # what the entries were also checked against


class ChainVerifier:
    """Checks entries one by one, in sequence order; stops at the first broken link."""

    def __init__(self) -> None:
        self._expected_seq = 1
        self._prev_hash = GENESIS_HASH
        self._checked = 0
        self._broken: tuple[int, str] | None = None

    def check(self, entry: Mapping[str, Any]) -> bool:
        """True while the chain holds, up to and including ``entry``."""
        if self._broken:
            return False
        seq = int(entry.get("seq", -1))
        problem = None
        if seq != self._expected_seq:
            problem = (
                f"expected entry {self._expected_seq}, found {seq}: entries missing or reordered"
            )
        elif entry.get("prev_hash") != self._prev_hash:
            problem = "prev_hash does not match the previous entry's hash"
        elif entry_hash(entry) != entry.get("hash"):
            problem = "content does not match its hash: the entry was altered"
        if problem:
            self._broken = (self._expected_seq, problem)
            return False
        self._checked += 1
        self._expected_seq, self._prev_hash = seq + 1, str(entry["hash"])
        return True

    def result(self) -> Verification:
        seq, reason = self._broken if self._broken else (None, None)
        return Verification(
            ok=self._broken is None,
            entries_checked=self._checked,
            head_seq=self._expected_seq - 1,
            head_hash=self._prev_hash,
            first_broken_seq=seq,
            reason=reason,
        )


def verify(entries: Iterable[Mapping[str, Any]]) -> Verification:
    """Walk the entries in sequence order and report the first broken link, if any."""
    verifier = ChainVerifier()
    for entry in entries:
        if not verifier.check(entry):
            break
    return verifier.result()
