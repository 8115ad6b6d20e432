"""What pyHanko cannot verify, verified by the SM2 verifier in ``services/ingest/sm2-verifier``
(ofdrw and BouncyCastle from Maven Central, run as a small JVM): an OFD's seals (签章) and
signatures (GB/T 38540), and a PDF's SM2 signatures.

财会〔2020〕6号 三(二) and 会计档案管理办法 第九条 ask the same of an OFD as of a PDF
(``ingest.parsers.signatures``): each seal verified — the protected files' digests, the signature
value by the signer's certificate, the seal signed by its maker, the signer among those it lists
and used within its validity — and the signer's certificate chained to the customer's trust
anchors; a PDF signed with SM2 has its CMS checked over the bytes its /ByteRange covers. No
Python library verifies SM2 signatures, SM2 certificate chains or GB/T 38540 seals, so this
module only runs the verifier and reads its answer; the curve and chain code is BouncyCastle's.

Runs in the parsing workers: the JVM inherits the worker's capped address space and is given a
time limit below the worker's, so that a hostile seal cannot outlive the call; it reads its
standard input, so that it ends with the worker that started it.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ingest.parsers.signatures import CheckedSignature, TrustAnchors


@dataclass(frozen=True)
class Sm2Verifier:
    """The verifier's launcher (``build.sh`` prints its path) and how long one file may take.

    Each parsing worker keeps one verifier running (``--serve``: a request per line), so that a
    sealed OFD costs its verification, not a JVM's start; one that overruns or stops is killed
    and the next file starts another. Every ``RESTART_AFTER`` files it is started afresh: what
    a hostile file left behind in it does not outlive a few hundred more."""

    command: tuple[str, ...]
    seconds: float = 20.0

    def ofd_seals(self, data: bytes, anchors: TrustAnchors) -> tuple[CheckedSignature, ...]:
        """Each signature of an OFD the Python side has opened within its limits, verified."""
        try:
            answer = self._ask("ofd", {"file.ofd": data}, anchors)
        except _Stopped as stopped:
            return (_unverified(str(stopped)),)
        return read_answer(answer)

    def pdf_signature(
        self, field: str, signed: bytes, cms: bytes, anchors: TrustAnchors
    ) -> CheckedSignature:
        """A PDF's SM2 signature (its CMS) verified over the bytes its /ByteRange covers; what
        was changed after it is the caller's to judge."""
        try:
            s = self._ask("cms", {"signed-bytes": signed, "cms.der": cms}, anchors)
        except _Stopped as stopped:
            return CheckedSignature(field, problem=str(stopped))
        return _signature({"id": field, **s})

    def _ask(self, kind: str, files: dict[str, bytes], anchors: TrustAnchors) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="aap-sm2-") as folder:
            paths = []
            for name, content in files.items():
                (Path(folder) / name).write_bytes(content)
                paths.append(str(Path(folder) / name))
            pem = Path(folder) / "anchors.pem"
            if anchors.configured:
                pem.write_bytes(anchors.pem)
            request = "\t".join([kind, *paths, str(pem) if anchors.configured else ""]) + "\n"
            answer: dict[str, Any] = json.loads(
                _server(self.command).ask(request.encode(), self.seconds)
            )
        return answer


RESTART_AFTER = 500


class _Stopped(Exception):
    """The verifier did not answer: it overran its time, or stopped."""


class _Server:
    """One running verifier of this process, and what it has answered so far."""

    def __init__(self, command: tuple[str, ...]) -> None:
        # the command is the operator's setting; requests name only files made here
        self.process = subprocess.Popen(  # noqa: S603
            [*command, "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.answered = 0
        self.pending = b""

    def ask(self, request: bytes, seconds: float) -> bytes:
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            self.process.stdin.write(request)
            self.process.stdin.flush()
        except OSError as error:
            raise self._stop(f"the SM2 verifier stopped ({error})") from error
        deadline = time.monotonic() + seconds
        out = self.process.stdout.fileno()
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([out], [], [], left)[0]:
                raise self._stop(f"the SM2 verifier took over {seconds:g} s")
            chunk = os.read(out, 65536)
            if not chunk:
                raise self._stop("the SM2 verifier stopped")
            self.pending += chunk
        answer, self.pending = self.pending.split(b"\n", 1)
        self.answered += 1
        return answer

    def _stop(self, why: str) -> _Stopped:
        self.close()
        return _Stopped(why)

    def close(self) -> None:
        for command, server in list(_SERVERS.items()):
            if server is self:
                del _SERVERS[command]
        self.process.kill()
        self.process.wait()


_SERVERS: dict[tuple[str, ...], _Server] = {}  # this process's running verifiers, by command


def _server(command: tuple[str, ...]) -> _Server:
    server = _SERVERS.get(command)
    if server is not None and (
        server.process.poll() is not None or server.answered >= RESTART_AFTER
    ):
        server.close()
        server = None
    if server is None:
        try:
            server = _SERVERS[command] = _Server(command)
        except OSError as error:
            raise _Stopped(f"the SM2 verifier cannot be run ({error})") from error
    return server


NOT_CONFIGURED = "no SM2 verifier is configured (AAP_INGEST_SM2_VERIFIER): not verified"


SIGNATURES = "Signatures.xml"  # an OFD's list of signatures, named where it is the fault


def _unverified(problem: str) -> CheckedSignature:
    return CheckedSignature("", problem=problem)


def read_answer(answer: dict[str, Any]) -> tuple[CheckedSignature, ...]:
    """The verifier's JSON as signatures. A package that carries a signature list the verifier
    cannot read, or that lists none, is refused like an unreadable PDF signature: a seal made
    unreadable would otherwise pass as merely unverified."""
    if "unreadable" in answer:
        why = f"its seals cannot be read ({answer['unreadable']})"
        return (CheckedSignature(SIGNATURES, unreadable=why),)
    found = answer.get("signatures") or []
    if not found:
        why = "no signature a verifier can reach (not linked from OFD.xml, or empty)"
        return (CheckedSignature(SIGNATURES, unreadable=why),)
    return tuple(_signature(s) for s in found)


def _signature(s: dict[str, Any]) -> CheckedSignature:
    if "unreadable" in s:
        return CheckedSignature(s.get("id", ""), unreadable=f"cannot be read ({s['unreadable']})")
    added = s.get("added_after") or []
    return CheckedSignature(
        field=s.get("id", ""),
        signer=s.get("signer", ""),
        issuer=s.get("issuer", ""),
        signed_at=datetime.fromisoformat(s["signed_at"]) if s.get("signed_at") else None,
        algorithm=s.get("algorithm", ""),
        seal=s.get("seal", ""),
        intact=bool(s.get("intact")),
        defect=s.get("defect", ""),
        unaltered=not added,
        changed_after=f"files no signature protects were added ({', '.join(added)})"
        if added
        else "",
        trusted=s.get("trusted"),
        chain_problem=s.get("chain_problem", ""),
    )
