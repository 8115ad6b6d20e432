"""The audit trail's entries as bytes: what the audit service hashes and an auditor re-hashes.

An entry is a JSON object (as ``GET /v1/export`` writes one per line). Its canonical form is
its JSON with keys sorted, no spaces, UTF-8 and non-ASCII characters as themselves
(``canonical``). Each entry names the hash of the one before it (``prev_hash``; the first names
``GENESIS_HASH``) and carries its own, SHA-256 over the canonical form of its other fields
(``entry_hash``). The log's Merkle tree has one leaf per entry, in sequence order (leaf index =
``seq`` − 1): ``contracts.merkle.leaf_hash`` of the canonical form of the whole entry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from contracts.merkle import Hash, leaf_hash

GENESIS_HASH = "0" * 64


def canonical(fields: Mapping[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def entry_hash(entry: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


def leaf_of(entry: Mapping[str, Any]) -> Hash:
    """The entry's leaf in the log's Merkle tree."""
    return leaf_hash(canonical(entry))


def origin(namespace: str) -> str:
    """The name of a namespace's audit log in its checkpoints."""
    return f"aap.{namespace}.audit"
