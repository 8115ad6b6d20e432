"""The signed HTTP callback by which an OA system reports a decision (docs/oa-integration.md).

POST {approval}/v1/oa/decisions with an ``OaDecisionMade`` JSON body and three headers:
  X-AAP-Timestamp  Unix seconds when the OA system signed
  X-AAP-Nonce      8–128 random characters, never reused
  X-AAP-Signature  "sha256=" + hex(HMAC-SHA256(secret, timestamp + "\\n" + nonce + "\\n" + body))
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

TIMESTAMP_HEADER = "X-AAP-Timestamp"
NONCE_HEADER = "X-AAP-Nonce"
SIGNATURE_HEADER = "X-AAP-Signature"


def sign(secret: bytes, timestamp: str, nonce: str, body: bytes) -> str:
    mac = hmac.new(
        secret, timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body, hashlib.sha256
    )
    return "sha256=" + mac.hexdigest()


def signed_headers(secret: bytes, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """The headers an OA system sends with ``body``: what a vendor's code must reproduce."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = secrets.token_hex(16)
    return {
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: sign(secret, timestamp, nonce, body),
        "Content-Type": "application/json; charset=utf-8",
    }
