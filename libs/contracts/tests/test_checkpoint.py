"""Signed checkpoints: the C2SP signed-note format against Go's published vector, and the
tlog-checkpoint body of the audit log."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contracts.checkpoint import Checkpoint, NoteError, Signer, Verifier, open_note, sign_note

# golang.org/x/mod sumdb/note/note_test.go (TestSign, TestNewVerifier): a key pair and the note
# it signs, byte for byte (Ed25519 signatures are deterministic).
SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
SIGNED = (
    TEXT
    + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZS"
    + "NXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def test_the_published_note_vector_is_signed_and_opened_byte_for_byte() -> None:
    signer = Signer.parse(SKEY)
    assert signer.verifier().text() == VKEY
    assert signer.text() == SKEY
    assert sign_note(TEXT, signer) == SIGNED
    assert open_note(SIGNED, Verifier.parse(VKEY)) == TEXT


def test_a_changed_note_key_or_id_is_refused() -> None:
    verifier = Verifier.parse(VKEY)
    with pytest.raises(NoteError, match="does not match the note"):
        open_note(SIGNED.replace("problem,", "problem;"), verifier)
    other = Signer.generate("PeterNeumann").verifier()  # same name, another key
    with pytest.raises(NoteError, match="no signature of PeterNeumann"):
        open_note(SIGNED, other)
    with pytest.raises(NoteError, match="id does not match"):
        Verifier.parse(VKEY.replace("c74f20a3", "c74f20a4"))
    with pytest.raises(NoteError):
        Verifier.parse(VKEY[:-4])


def test_a_witness_line_beside_ours_is_ignored_and_ours_still_checks() -> None:
    log, witness = Signer.generate("aap.test.audit"), Signer.generate("witness.example")
    checkpoint = Checkpoint(
        "aap.test.audit", 3, bytes(range(32)), datetime(2026, 11, 29, tzinfo=UTC)
    )
    note = checkpoint.signed(log)
    cosigned = note + sign_note(checkpoint.text(), witness).split("\n\n")[1]
    assert Checkpoint.open(cosigned, log.verifier(), origin="aap.test.audit") == checkpoint
    assert Checkpoint.open(cosigned, witness.verifier()) == checkpoint


def test_a_checkpoint_is_origin_size_root_and_time() -> None:
    checkpoint = Checkpoint(
        "aap.t1.audit", 1042, b"\xab" * 32, datetime(2026, 11, 29, 3, 10, tzinfo=UTC)
    )
    assert checkpoint.text() == (
        "aap.t1.audit\n1042\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n"
        "time 2026-11-29T03:10:00Z\n"
    )
    assert Checkpoint.parse(checkpoint.text()) == checkpoint
    signer = Signer.generate("aap.t1.audit")
    with pytest.raises(NoteError, match=r"not 'aap\.other\.audit'"):
        Checkpoint.open(checkpoint.signed(signer), signer.verifier(), origin="aap.other.audit")
    with pytest.raises(NoteError):
        Checkpoint.parse("aap.t1.audit\n-1\nq6s=\n")
