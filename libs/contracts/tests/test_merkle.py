"""The audit log's Merkle tree against known RFC 6962 vectors: the roots of the reference tree
of Certificate Transparency's test suite, and transparency-dev/merkle's proof probes."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from contracts.merkle import (
    EMPTY_ROOT,
    Frontier,
    ProofError,
    blocks,
    consistency_path,
    consistency_ranges,
    fold,
    inclusion_path,
    inclusion_ranges,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# transparency-dev/merkle testonly/constants.go: LeafInputs() and RootHashes() (tree sizes 0–8).
LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    bytes.fromhex(h)
    for h in (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
LEAVES = [leaf_hash(x) for x in LEAF_INPUTS]
PROBES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "rfc6962-probes.json").read_text()
)


def b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def subtree(lo: int, hi: int) -> bytes:
    return root(LEAVES[lo:hi])


def test_roots_of_every_prefix_match_the_reference_tree() -> None:
    assert root([]) == EMPTY_ROOT == ROOTS[0]
    frontier = Frontier()
    for size in range(1, 9):
        frontier.append(LEAVES[size - 1])
        assert root(LEAVES[:size]) == frontier.root() == ROOTS[size], size


def test_appending_yields_each_complete_subtree_once() -> None:
    frontier, made = Frontier(), []
    for leaf in LEAVES:
        made += frontier.append(leaf)
    assert [(level, index) for level, index, _ in made if level > 0] == [
        (1, 0),
        (1, 1),
        (2, 0),
        (1, 2),
        (1, 3),
        (2, 1),
        (3, 0),
    ]
    assert dict(((lv, i), h) for lv, i, h in made)[(2, 1)] == root(LEAVES[4:8])
    assert frontier.nodes() == [ROOTS[8]]


@pytest.mark.parametrize("probe", PROBES["inclusion"], ids=lambda p: p["file"])
def test_inclusion_probes(probe: dict[str, Any]) -> None:
    args = (
        b64(probe["leafHash"]),
        probe["leafIdx"],
        probe["treeSize"],
        [b64(p) for p in probe["proof"] or []],
        b64(probe["root"]),
    )
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("probe", PROBES["consistency"], ids=lambda p: p["file"])
def test_consistency_probes(probe: dict[str, Any]) -> None:
    args = (
        probe["size1"],
        probe["size2"],
        b64(probe["root1"]),
        b64(probe["root2"]),
        [b64(p) for p in probe["proof"] or []],
    )
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_proofs_made_are_the_reference_proofs_and_verify() -> None:
    """The happy-path probes were made from the reference tree: ours are the same hashes."""
    for probe in PROBES["inclusion"]:
        size, index = probe["treeSize"], probe["leafIdx"]
        if probe["wantErr"] or size > 8 or b64(probe["root"]) != ROOTS[size]:
            continue
        assert inclusion_path(index, size, subtree) == [b64(p) for p in probe["proof"] or []]
    for probe in PROBES["consistency"]:
        m, n = probe["size1"], probe["size2"]
        if probe["wantErr"] or n > 8 or b64(probe["root2"]) != ROOTS[n]:
            continue
        assert consistency_path(m, n, subtree) == [b64(p) for p in probe["proof"] or []]
    for n in range(1, 9):
        for i in range(n):
            verify_inclusion(LEAVES[i], i, n, inclusion_path(i, n, subtree), ROOTS[n])
        for m in range(1, n + 1):
            verify_consistency(m, n, ROOTS[m], ROOTS[n], consistency_path(m, n, subtree))


def test_every_range_of_a_proof_is_the_fold_of_its_complete_subtrees() -> None:
    """What lets a store of node hashes answer proofs: no range needs the leaves themselves."""
    frontier, nodes = Frontier(), dict[tuple[int, int], bytes]()
    for leaf in LEAVES:
        nodes |= {(level, index): h for level, index, h in frontier.append(leaf)}
    for n in range(1, 9):
        ranges = [r for i in range(n) for r in inclusion_ranges(i, n)]
        ranges += [r for m in range(1, n + 1) for r in consistency_ranges(m, n)]
        for lo, hi in ranges:
            assert fold([nodes[b] for b in blocks(lo, hi)]) == root(LEAVES[lo:hi]), (lo, hi)


def test_a_fork_or_a_rewritten_leaf_is_caught() -> None:
    forked = [*LEAVES[:5], leaf_hash(b"rewritten"), *LEAVES[6:]]
    proof = consistency_path(4, 8, lambda lo, hi: root(forked[lo:hi]))
    with pytest.raises(ProofError, match="tree of 8"):
        verify_consistency(4, 8, ROOTS[4], ROOTS[8], proof)
    with pytest.raises(ProofError, match="another root"):
        verify_inclusion(forked[5], 5, 8, inclusion_path(5, 8, subtree), ROOTS[8])
