"""What every vendor's callback check shares: the refusal, and the checks it is made of."""

from __future__ import annotations

import base64
import binascii
import hmac


class CallbackRefused(Exception):
    """A vendor callback that fails its signature or its decryption."""


def require_signature(expected: str, given: str, what: str) -> None:
    """Compared in constant time: a forger learns nothing from how long a refusal takes."""
    if not hmac.compare_digest(expected, given):
        raise CallbackRefused(f"{what} does not match")


def ciphertext(encrypted: str, what: str) -> bytes:
    """``encrypted`` as bytes: base64 whose length is whole AES blocks."""
    try:
        data = base64.b64decode(encrypted, validate=True)
    except binascii.Error as error:
        raise CallbackRefused(f"{what} is not base64: {error}") from error
    if not data or len(data) % 16:
        raise CallbackRefused(f"{what} is not whole AES blocks")
    return data
