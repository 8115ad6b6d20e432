"""Checking a signed OA callback: from the OA system, recent, and (with the nonce store) once."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from contracts.oa_callback import sign

MAX_CLOCK_SKEW_SECONDS = 300


def clock_skew(sent_at: float, now: float) -> str | None:
    """Why a callback signed at ``sent_at`` (Unix seconds) is stale, or None: within the window.
    Every callback, ours and the vendors', has the same window."""
    if abs(now - sent_at) > MAX_CLOCK_SKEW_SECONDS:
        return (
            f"timestamp is {int(now - sent_at)} s off; at most {MAX_CLOCK_SKEW_SECONDS} s allowed"
        )
    return None


class CallbackRejected(Exception):
    """The callback is not trustworthy; the message says why (and never echoes the secret)."""


def verify(
    keys: Mapping[str, bytes],
    *,
    key_id: str | None,
    timestamp: str | None,
    nonce: str | None,
    signature: str | None,
    body: bytes,
    now: float,
) -> str:
    """The OA system that signed (its key id), once the signature matches its own key and the
    timestamp is within 5 minutes; CallbackRejected otherwise.

    Replays within the window are caught by the caller's store of seen nonces.
    """
    if not key_id or not timestamp or not nonce or not signature:
        raise CallbackRejected(
            "missing X-AAP-Key-Id, X-AAP-Timestamp, X-AAP-Nonce or X-AAP-Signature header"
        )
    secret = keys.get(key_id)
    if secret is None:
        raise CallbackRejected("unknown key id: no OA system signs with it")
    if not 8 <= len(nonce) <= 128:
        raise CallbackRejected("nonce must be 8 to 128 characters")
    try:
        sent_at = int(timestamp)
    except ValueError as error:
        raise CallbackRejected("X-AAP-Timestamp is not Unix seconds") from error
    if stale := clock_skew(sent_at, now):
        raise CallbackRejected(stale)
    # Compared as bytes: a header may hold any Latin-1 character, which str comparison refuses.
    expected = sign(secret, key_id, timestamp, nonce, body).encode()
    if not hmac.compare_digest(expected, signature.encode("utf-8", "surrogateescape")):
        raise CallbackRejected("signature does not match")
    return key_id
