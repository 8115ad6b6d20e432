"""The Merkle tree of the audit log, hashed as RFC 6962 / RFC 9162 (§2.1) define it, the tree of
Certificate Transparency and of Go's checksum database.

    leaf hash  SHA-256(0x00 ‖ entry bytes)
    node hash  SHA-256(0x01 ‖ left ‖ right)

Anyone holding the entries can recompute the root of any prefix of the log; a log operator
proves that one entry is in the tree (inclusion) and that a later tree extends an earlier one
(consistency) with a few hashes. The proofs here are built from ``subtree(lo, hi)``, the root
hash of leaves ``[lo, hi)``, so that a store of node hashes answers them without reading the
whole log; the verifiers need nothing but the proof.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

Hash = bytes
Subtree = Callable[[int, int], Hash]  # root hash of the leaves [lo, hi)

EMPTY_ROOT = hashlib.sha256(b"").digest()
HASH_SIZE = 32


class ProofError(Exception):
    """A proof that does not prove what it claims; the message says which check failed."""


def leaf_hash(entry: bytes) -> Hash:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: Hash, right: Hash) -> Hash:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n ≥ 2): where RFC 6962 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[Hash]) -> Hash:
    """MTH: the root of a tree of the given leaf hashes."""
    return Frontier.of(leaves).root()


Range = tuple[int, int]  # leaves [lo, hi)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtrees whose roots make PATH(index, D[size]), from the leaf up to the root."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    ranges: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:  # walk down, then return the siblings bottom-up
        k = split(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    return ranges[::-1]


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The subtrees whose roots make PROOF(first, D[second]) (RFC 9162 §2.1.4.1)."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency from {first} to {second}")
    if first == second:
        return []
    ranges: list[Range] = []
    lo, hi, m, complete = 0, second, first, True
    while m != hi - lo:
        k = split(hi - lo)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    if not complete:
        ranges.append((lo, hi))
    return ranges[::-1]


def inclusion_path(index: int, size: int, subtree: Subtree) -> list[Hash]:
    """PATH(index, D[size]): the sibling hashes from leaf ``index`` up to the root."""
    return [subtree(lo, hi) for lo, hi in inclusion_ranges(index, size)]


def consistency_path(first: int, second: int, subtree: Subtree) -> list[Hash]:
    """PROOF(first, D[second]): what proves the tree of ``second`` leaves extends the tree of
    ``first``."""
    return [subtree(lo, hi) for lo, hi in consistency_ranges(first, second)]


Node = tuple[int, int]  # (level, index): the complete subtree of leaves [index·2^level, …)


def blocks(lo: int, hi: int) -> list[Node]:
    """The complete subtrees that make up leaves [lo, hi), left to right, largest first. For a
    range that starts at a multiple of its size's power of two, as every range of a proof
    does, its root is ``fold`` of theirs."""
    out: list[Node] = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        while lo % (1 << level):
            level -= 1
        out.append((level, lo >> level))
        lo += 1 << level
    return out


def fold(hashes: Sequence[Hash]) -> Hash:
    """The root over complete subtrees of decreasing size, left to right."""
    h = hashes[-1]
    for left in reversed(hashes[:-1]):
        h = node_hash(left, h)
    return h


def verify_inclusion(
    leaf: Hash, index: int, size: int, path: Sequence[Hash], expected_root: Hash
) -> None:
    """RFC 9162 §2.1.3.2; ProofError unless ``path`` proves ``leaf`` at ``index``."""
    _sized(leaf, *path)
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofError("inclusion path is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion path is shorter than the tree is deep")
    if r != expected_root:
        raise ProofError("inclusion path leads to another root")


def verify_consistency(
    first: int, second: int, first_root: Hash, second_root: Hash, path: Sequence[Hash]
) -> None:
    """RFC 9162 §2.1.4.2; ProofError unless ``path`` proves the tree of ``second`` leaves with
    ``second_root`` extends the tree of ``first`` leaves with ``first_root`` (the empty tree
    is no checkpoint: nothing is proved from it)."""
    _sized(*path)
    if not 0 < first <= second:
        raise ProofError(f"no consistency from a tree of {first} to one of {second}")
    if first == second:
        if path:
            raise ProofError("trees of one size need an empty proof")
        if first_root != second_root:
            raise ProofError("two roots for one tree size: the log forked")
        return
    if not path:
        raise ProofError("empty consistency proof")
    proof = list(path)
    if first & (first - 1) == 0:  # a power of two: the first tree is a node of the second
        proof.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the tree is deep")
    if fr != first_root:
        raise ProofError(f"the proof does not lead to the root of the tree of {first}")
    if sr != second_root:
        raise ProofError(f"the proof does not lead to the root of the tree of {second}")


def _sized(*hashes: Hash) -> None:
    if any(len(h) != HASH_SIZE for h in hashes):
        raise ProofError(f"a hash of the tree is {HASH_SIZE} bytes")


class Frontier:
    """The roots of the complete subtrees of a growing tree, left to right (a compact range):
    enough to append a leaf and to give the root, whatever the tree's size."""

    def __init__(self) -> None:
        self.size = 0
        self._nodes: list[tuple[int, Hash]] = []  # (level, hash); levels strictly decreasing

    @classmethod
    def of(cls, leaves: Iterable[Hash]) -> Frontier:
        frontier = cls()
        for leaf in leaves:
            frontier.append(leaf)
        return frontier

    def append(self, leaf: Hash) -> list[tuple[int, int, Hash]]:
        """Add a leaf; the complete subtrees it completes, as (level, index, hash), the leaf
        itself first: what a store of node hashes keeps."""
        made = [(0, self.size, leaf)]
        level, h = 0, leaf
        while self._nodes and self._nodes[-1][0] == level:
            _, left = self._nodes.pop()
            level, h = level + 1, node_hash(left, h)
            made.append((level, self.size >> level, h))
        self._nodes.append((level, h))
        self.size += 1
        return made

    def root(self) -> Hash:
        return fold(self.nodes()) if self._nodes else EMPTY_ROOT

    def nodes(self) -> list[Hash]:
        """The complete subtrees' roots, left to right."""
        return [h for _, h in self._nodes]
