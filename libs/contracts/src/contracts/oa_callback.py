"""The signed HTTP callback by which an OA system reports a decision (docs/oa-integration.md).

POST {approval}/v1/oa/decisions with an ``OaDecisionMade`` JSON body and four headers:
  X-AAP-Key-Id     which OA system's key signed (each OA system has its own)
  X-AAP-Timestamp  Unix seconds when the OA system signed
  X-AAP-Nonce      8–128 random characters, never reused
  X-AAP-Signature  "sha256=" + hex(HMAC-SHA256(secret,
                   key id + "\\n" + timestamp + "\\n" + nonce + "\\n" + body))
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

KEY_ID_HEADER = "X-AAP-Key-Id"
TIMESTAMP_HEADER = "X-AAP-Timestamp"
NONCE_HEADER = "X-AAP-Nonce"
SIGNATURE_HEADER = "X-AAP-Signature"


def sign(secret: bytes, key_id: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The key id is signed too: a signature cannot be passed off as another system's."""
    signed = b"\n".join([key_id.encode(), timestamp.encode(), nonce.encode(), body])
    return "sha256=" + hmac.new(secret, signed, hashlib.sha256).hexdigest()


def signed_headers(
    key_id: str, secret: bytes, body: bytes, *, now: float | None = None
) -> dict[str, str]:
    """The headers an OA system sends with ``body``: what a vendor's code must reproduce."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = secrets.token_hex(16)
    return {
        KEY_ID_HEADER: key_id,
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: sign(secret, key_id, timestamp, nonce, body),
        "Content-Type": "application/json; charset=utf-8",
    }
