"""Signed checkpoints of the audit log: a C2SP tlog-checkpoint inside a C2SP signed note, the
formats of Go's checksum database and Sigstore, with an Ed25519 key.

    aap.prod.audit                      origin: which log
    1042                                tree size
    3q2+7w…=                            root hash, base64
    time 2026-11-29T03:10:00Z           extension line: when it was signed
                                        (blank line)
    — aap.prod.audit Zm9v…=             signature line: key name, base64(key id ‖ signature)

The key id is the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key); a verifier key is
written ``<name>+<key id, hex>+<base64(0x01 ‖ public key)>``. A witness (an independent
cosigner) adds its own signature line to the same note; a verifier asks for the lines of the
keys it trusts and ignores the others.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

ED25519 = b"\x01"  # the signed-note algorithm byte of Ed25519
SIGNATURE_PREFIX = "— "  # an em dash and a space begin each signature line
PRIVATE_PREFIX = "PRIVATE+KEY+"


class NoteError(Exception):
    """A note, key or checkpoint that is malformed or not signed by the key asked for."""


def _valid_name(name: str) -> str:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise NoteError(f"key name {name!r}: non-empty, without spaces or '+'")
    return name


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A public key that checks one name's signatures."""

    name: str
    public: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public)

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        """From ``<name>+<key id>+<base64 key>``, checking the key id against the key."""
        name, sep1, rest = vkey.partition("+")
        hex_id, sep2, encoded = rest.partition("+")
        try:
            raw = base64.b64decode(encoded, validate=True)
            wanted = bytes.fromhex(hex_id)
        except (binascii.Error, ValueError) as error:
            raise NoteError("verifier key is not <name>+<hex id>+<base64 key>") from error
        if not (sep1 and sep2) or len(hex_id) != 8 or raw[:1] != ED25519 or len(raw) != 33:
            raise NoteError("verifier key is not an Ed25519 key as <name>+<hex id>+<base64 key>")
        verifier = cls(_valid_name(name), raw[1:])
        if verifier.key_id != wanted:
            raise NoteError("verifier key's id does not match its name and key")
        return verifier

    def text(self) -> str:
        key = base64.b64encode(ED25519 + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{key}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A private key that signs as ``name``."""

    name: str
    seed: bytes  # the 32-byte Ed25519 private key

    @classmethod
    def parse(cls, skey: str) -> Signer:
        """From ``PRIVATE+KEY+<name>+<key id>+<base64(0x01 ‖ seed)>`` (Go's note format)."""
        if not skey.startswith(PRIVATE_PREFIX):
            raise NoteError("signing key does not begin with PRIVATE+KEY+")
        name, _, rest = skey.removeprefix(PRIVATE_PREFIX).partition("+")
        hex_id, _, encoded = rest.partition("+")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error as error:
            raise NoteError("signing key is not base64") from error
        if raw[:1] != ED25519 or len(raw) != 33:
            raise NoteError("signing key is not an Ed25519 key")
        signer = cls(_valid_name(name), raw[1:])
        if signer.verifier().key_id.hex() != hex_id:
            raise NoteError("signing key's id does not match its name and key")
        return signer

    @classmethod
    def generate(cls, name: str) -> Signer:
        key = Ed25519PrivateKey.generate()
        seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return cls(_valid_name(name), seed)

    def text(self) -> str:
        encoded = base64.b64encode(ED25519 + self.seed).decode()
        return f"{PRIVATE_PREFIX}{self.name}+{self.verifier().key_id.hex()}+{encoded}"

    def verifier(self) -> Verifier:
        key = Ed25519PrivateKey.from_private_bytes(self.seed).public_key()
        return Verifier(self.name, key.public_bytes(Encoding.Raw, PublicFormat.Raw))

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


def sign_note(text: str, signer: Signer) -> str:
    """The signed note of ``text`` (lines, each ending in a newline)."""
    if not text.endswith("\n") or "\n\n" in text:
        raise NoteError("note text must end with a newline and have no blank line")
    signed = signer.verifier().key_id + signer.sign(text.encode())
    return f"{text}\n{SIGNATURE_PREFIX}{signer.name} {base64.b64encode(signed).decode()}\n"


def open_note(note: str, verifier: Verifier) -> str:
    """The text of ``note`` once a signature line of ``verifier`` checks; NoteError otherwise."""
    text, sep, block = note.rpartition("\n\n")
    if not sep or not block.endswith("\n"):
        raise NoteError("not a signed note: no signature block after a blank line")
    text += "\n"
    for line in block.splitlines():
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"malformed signature line {line[:40]!r}")
        name, _, encoded = line.removeprefix(SIGNATURE_PREFIX).partition(" ")
        try:
            signed = base64.b64decode(encoded, validate=True)
        except binascii.Error as error:
            raise NoteError("a signature is not base64") from error
        if name != verifier.name or signed[:4] != verifier.key_id:
            continue  # another key's line (a witness's): not ours to check
        if verifier.verify(text.encode(), signed[4:]):
            return text
        raise NoteError(f"the signature of {name} does not match the note")
    raise NoteError(f"the note carries no signature of {verifier.name}")


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's name (origin), its size and root hash, and when it was made."""

    origin: str
    size: int
    root: bytes
    time: datetime

    def text(self) -> str:
        when = self.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\ntime {when}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint is origin, size and root hash, one per line")
        origin, size, root, *extensions = lines[:-1]
        try:
            tree_size = int(size)
            root_hash = base64.b64decode(root, validate=True)
        except (ValueError, binascii.Error) as error:
            raise NoteError("checkpoint size or root hash is malformed") from error
        times = [e.removeprefix("time ") for e in extensions if e.startswith("time ")]
        if not origin or tree_size < 0 or len(root_hash) != 32 or len(times) != 1:
            raise NoteError("checkpoint needs an origin, a size ≥ 0, a SHA-256 root and a time")
        try:
            when = datetime.strptime(times[0], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError as error:
            raise NoteError(f"checkpoint time {times[0]!r} is not UTC ISO 8601") from error
        return cls(origin, tree_size, root_hash, when)

    def signed(self, signer: Signer) -> str:
        return sign_note(self.text(), signer)

    @classmethod
    def open(cls, note: str, verifier: Verifier, origin: str | None = None) -> Checkpoint:
        """The checkpoint a note holds, once ``verifier``'s signature on it checks; and of the
        log ``origin``, when given."""
        checkpoint = cls.parse(open_note(note, verifier))
        if origin is not None and checkpoint.origin != origin:
            raise NoteError(f"checkpoint of log {checkpoint.origin!r}, not {origin!r}")
        return checkpoint
