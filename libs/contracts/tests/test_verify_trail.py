"""The offline verifier on an export as the audit service writes it: passes when intact, fails
naming what broke when an entry is altered (hashes recomputed or not), removed or reordered."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contracts.checkpoint import Checkpoint, Signer
from contracts.merkle import Frontier
from contracts.trail import GENESIS_HASH, canonical, entry_hash, leaf_of
from contracts.verify_trail import _hash_of, main, verify_export

SIGNER = Signer.generate("aap.test.audit")


def chained(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    prev = GENESIS_HASH
    for seq, entry in enumerate(entries, start=1):
        entry["seq"], entry["prev_hash"] = seq, prev
        entry["hash"] = prev = entry_hash(entry)
    return entries


def trail(n: int) -> list[dict[str, Any]]:
    return chained(
        [{"event_type": "cn.aap.RoleAssigned.v1", "data": {"user": f"用户{i}"}} for i in range(n)]
    )


def note(entries: list[dict[str, Any]]) -> str:
    root = Frontier.of(leaf_of(e) for e in entries).root()
    when = datetime(2026, 11, 29, tzinfo=UTC)
    return Checkpoint("aap.test.audit", len(entries), root, when).signed(SIGNER)


def lines(entries: list[dict[str, Any]]) -> list[str]:
    return [canonical(e).decode() for e in entries]  # as the audit service exports them


def test_an_intact_export_passes_against_every_checkpoint() -> None:
    entries = trail(10)
    report = verify_export(lines(entries), SIGNER.verifier(), [note(entries[:4]), note(entries)])
    assert report.ok and report.entries == 10 and report.checkpoints_matched == [4, 10]


def test_each_tampering_fails_naming_what_broke() -> None:
    entries, key = trail(10), SIGNER.verifier()
    kept = [note(entries[:4]), note(entries)]
    recomputed = chained([dict(e) for e in entries])
    recomputed[6]["data"] = {"user": "伪造"}
    naive = [dict(e) for e in entries]
    naive[6] = {**naive[6], "data": {"user": "伪造"}}
    cases = {
        "rewritten, hashes recomputed": (chained(recomputed), "entries 1–10 do not have the root"),
        "rewritten": (naive, "entry 7: 内容与哈希不符 content does not match"),
        "tail deleted": (entries[:8], "the export holds 8 entries, checkpoint 10 covers more"),
        "reordered": ([entries[1], entries[0], *entries[2:]], "entry 1: 序号为 seq is 2"),
    }
    for case, (changed, words) in cases.items():
        report = verify_export(lines(changed), key, kept)
        assert not report.ok and words in report.problems[0], (case, report.problems)
    other = Signer.generate("aap.test.audit")  # a checkpoint signed with another key
    forged = Checkpoint.parse(note(entries).split("\n\n")[0] + "\n").signed(other)
    assert "checkpoint does not check" in verify_export(lines(entries), key, [forged]).problems[0]


def test_the_command_exits_non_zero_on_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = trail(3)
    export, checkpoint, key = tmp_path / "trail.jsonl", tmp_path / "cp.note", tmp_path / "key"
    export.write_text("\n".join(lines(entries)) + "\n", encoding="utf-8")
    checkpoint.write_text(note(entries), encoding="utf-8")
    key.write_text(SIGNER.verifier().text() + "\n")
    assert main([str(export), "--key", str(key), "--checkpoint", str(checkpoint)]) == 0
    assert "通过 PASSED" in capsys.readouterr().out
    export.write_text("\n".join(lines(entries[:2])) + "\n", encoding="utf-8")
    assert main([str(export), "--key", str(key), "--checkpoint", str(checkpoint)]) == 1
    assert "未通过 FAILED" in capsys.readouterr().out


def test_an_entrys_hash_from_its_line_is_the_hash_of_its_fields() -> None:
    """The verifier's shortcut (the line less its top-level hash) agrees with ``entry_hash``,
    even for data holding keys and text that look like the entry's own hash member."""
    tricky = trail(3)
    tricky[1]["data"] = {"hash": tricky[0]["hash"], "note": ',"hash":"', "prev_hash": "x"}
    entries = chained(tricky)
    for entry in entries:
        assert _hash_of(canonical(entry), entry) == entry_hash(entry) == entry["hash"]
    assert verify_export(lines(entries), SIGNER.verifier(), [note(entries)]).ok


def test_an_export_without_a_checkpoint_is_unproven(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Once, a fabricated three-entry export, a key made for it and no checkpoint passed."""
    made_up = Signer.generate("aap.prod.audit")
    export, key = tmp_path / "trail.jsonl", tmp_path / "key"
    export.write_text("\n".join(lines(trail(3))) + "\n", encoding="utf-8")
    key.write_text(made_up.verifier().text() + "\n")
    assert main([str(export), "--key", str(key)]) == 1
    out = capsys.readouterr().out
    assert "未证明 UNPROVEN" in out and "通过 PASSED" not in out
    assert f"aap.prod.audit ({made_up.verifier().key_id.hex()})" in out  # to compare
