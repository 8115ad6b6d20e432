"""The offline verifier of an audit trail export (审计日志离线校验): what an auditor runs on their
own machine, without the platform, with nothing but this library and ``cryptography``.

    python -m contracts.verify_trail EXPORT.jsonl --key KEY [--checkpoint NOTE ...]

``EXPORT.jsonl``: ``GET /v1/export`` of the audit service, as downloaded: each line is an
entry's canonical form (``contracts.trail``), the bytes its leaf hashes; a reformatted file no
longer matches the checkpoints. ``KEY``: the log's verifier key
(``GET /v1/checkpoint/key``, or as the docs print it), text or a file holding it. Each ``NOTE``:
a checkpoint kept from earlier (``GET /v1/checkpoint``, or the ``X-AAP-Checkpoint`` header of an
export, base64-decoded), a file. It checks every checkpoint's signature, every entry's hash and
its link to the one before, and that the tree of the export's first entries has the root each
checkpoint published (so the checkpoints are consistent with each other and with the export).
It prints a report in Chinese and English; the exit code is 0 only if everything holds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts.checkpoint import Checkpoint, NoteError, Verifier
from contracts.merkle import Frontier, leaf_hash
from contracts.trail import GENESIS_HASH, entry_hash


@dataclass
class Report:
    key: str = ""  # the verifier key's name and id, for the auditor to compare
    entries: int = 0
    checkpoints_matched: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        out = [f"公钥 key: {self.key}", f"条目 entries: {self.entries}"]
        for size in self.checkpoints_matched:
            out.append(f"✓ 检查点 checkpoint {size}: 根哈希一致 the export's first {size} match it")
        if self.checkpoints_matched and self.entries > self.checkpoints_matched[-1]:
            out.append(
                f"  条目 {self.checkpoints_matched[-1] + 1}–{self.entries} 仅由哈希链连接 entries "
                f"{self.checkpoints_matched[-1] + 1}–{self.entries} are chained only, no "
                "checkpoint covers them yet"
            )
        if self.ok:
            out.append("✓ 通过 PASSED: 哈希链完整，签名有效 hash chain intact, signatures valid")
        else:
            out += [f"✗ {p}" for p in self.problems]
            out.append("✗ 未通过 FAILED")
        return out


def verify_export(lines: Iterable[bytes | str], verifier: Verifier, notes: Iterable[str]) -> Report:
    """Check an export against the log's key and the checkpoints kept; the first failure ends
    the walk (what follows it cannot be trusted either)."""
    report = Report(key=f"{verifier.name} ({verifier.key_id.hex()})")
    notes = list(notes)
    if not notes:
        report.problems.append(
            "未证明 UNPROVEN: 未提供检查点 no checkpoint given: a hash chain alone proves nothing "
            "(anyone can make one); give the log's checkpoint (--checkpoint)"
        )
        return report
    checkpoints: list[Checkpoint] = []
    for note in notes:
        try:
            checkpoints.append(Checkpoint.open(note, verifier))
        except NoteError as error:
            report.problems.append(f"检查点无效 checkpoint does not check: {error}")
            return report
    if len({c.origin for c in checkpoints}) > 1:
        report.problems.append("检查点来自不同日志 checkpoints of different logs")
        return report
    due = sorted(checkpoints, key=lambda c: c.size)
    frontier, prev = Frontier(), GENESIS_HASH
    for number, line in enumerate(lines, start=1):
        raw = (line.encode() if isinstance(line, str) else line).rstrip(b"\r\n")
        try:
            entry = json.loads(raw)
        except json.JSONDecodeError:
            report.problems.append(f"第 {number} 行不是 JSON line {number} is not JSON")
            return report
        seq = entry.get("seq")
        if seq != number:
            report.problems.append(
                f"条目 {number} entry {number}: 序号为 seq is {seq} (missing or reordered)"
            )
            return report
        if entry.get("prev_hash") != prev:
            report.problems.append(
                f"条目 {seq} entry {seq}: 前序哈希不符 prev_hash breaks the chain"
            )
            return report
        if _hash_of(raw, entry) != entry.get("hash"):
            report.problems.append(
                f"条目 {seq} entry {seq}: 内容与哈希不符 content does not match its hash"
            )
            return report
        prev = entry["hash"]
        frontier.append(leaf_hash(raw))  # the line is the entry's canonical form
        report.entries = frontier.size
        while due and due[0].size == frontier.size:
            checkpoint = due.pop(0)
            if frontier.root() != checkpoint.root:
                report.problems.append(
                    f"条目 1–{checkpoint.size} 与检查点不符 entries 1–{checkpoint.size} do not "
                    f"have the root checkpoint {checkpoint.size} published: altered, reordered "
                    "or forked"
                )
                return report
            report.checkpoints_matched.append(checkpoint.size)
    for checkpoint in due:
        report.problems.append(
            f"导出只有 {frontier.size} 条，检查点覆盖 {checkpoint.size} 条 the export holds "
            f"{frontier.size} entries, checkpoint {checkpoint.size} covers more: entries deleted"
        )
    return report


def _hash_of(raw: bytes, entry: dict[str, Any]) -> str:
    """The entry's own hash (``contracts.trail.entry_hash``), from its canonical line without
    serialising it again: the line less its top-level ``"hash"`` member, which in sorted keys
    follows ``data`` and is the last unescaped ``,"hash":"`` of the line. Anything else is
    computed the long way."""
    claimed = entry.get("hash")
    at = raw.rfind(b',"hash":"')
    if isinstance(claimed, str) and at > 0 and raw[at + 9 : at + 75] == claimed.encode() + b'",':
        return hashlib.sha256(raw[:at] + raw[at + 74 :]).hexdigest()
    return entry_hash(entry)


def _text(value: str) -> str:
    path = Path(value)
    return path.read_text(encoding="utf-8").strip() if path.is_file() else value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("export", type=Path)
    parser.add_argument("--key", required=True, help="verifier key, or a file holding it")
    parser.add_argument("--checkpoint", action="append", default=[], type=Path)
    args = parser.parse_args(argv)
    try:
        verifier = Verifier.parse(_text(args.key))
    except NoteError as error:
        print(f"✗ 公钥无效 key does not parse: {error}")
        return 2
    notes = [p.read_text(encoding="utf-8") for p in args.checkpoint]
    with args.export.open("rb") as export:
        report = verify_export(export, verifier, notes)
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
