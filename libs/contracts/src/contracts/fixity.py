"""Fixity information (固化信息): the digests that prove an original was not changed.

Ingest computes them at intake; the archive recomputes them to verify what it keeps.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Digests:
    sha256: str
    sm3: str  # GB/T 32905, the digest Chinese e-government standards name

    @property
    def content_key(self) -> str:
        return content_key(self.sha256)


def content_key(sha256: str) -> str:
    """Content address of an original in the object store."""
    return f"sha256/{sha256[:2]}/{sha256}"


def digest(data: bytes) -> Digests:
    return Digests(
        sha256=hashlib.sha256(data).hexdigest(),
        sm3=hashlib.new("sm3", data).hexdigest(),  # OpenSSL 3 provides SM3
    )


def digest_of(chunks: Iterable[bytes]) -> Digests:
    """The same digests over data read piece by piece (a stream from the object store)."""
    sha256, sm3 = hashlib.sha256(), hashlib.new("sm3")
    for chunk in chunks:
        sha256.update(chunk)
        sm3.update(chunk)
    return Digests(sha256=sha256.hexdigest(), sm3=sm3.hexdigest())
