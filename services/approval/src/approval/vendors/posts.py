"""What each vendor sends to the approval service, built as the vendor's documentation and
sample code do: encrypted with the connection's keys, signed, in the vendor's own framing. The
check command (``approval.check``) plays the vendor with these; so do the tests and the demo."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from approval.vendors.feishu_crypt import FeishuCrypt
from approval.vendors.message_crypt import MessageCrypt


@dataclass(frozen=True)
class Post:
    """One HTTP request a vendor makes: its query, headers and body."""

    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


def dingtalk_post(
    crypt: MessageCrypt, event: dict[str, Any] | bytes, at: float | None = None
) -> Post:
    """DingTalk's HTTP event push: ``{"encrypt"}``, signed in the query (milliseconds).
    ``event`` as bytes: any plaintext, to reach what follows the signature."""
    plain = event if isinstance(event, bytes) else json.dumps(event, ensure_ascii=False).encode()
    encrypted = crypt.encrypt(plain)
    timestamp, nonce = str(int((at or time.time()) * 1000)), secrets.token_hex(4)
    query = {"signature": crypt.signature(timestamp, nonce, encrypted)}
    query |= {"timestamp": timestamp, "nonce": nonce}
    return Post(query, {}, json.dumps({"encrypt": encrypted}).encode())


def wecom_post(crypt: MessageCrypt, xml: str, at: float | None = None) -> Post:
    """WeCom's callback: the event XML encrypted into ``<Encrypt>``, signed in the query."""
    encrypted = crypt.encrypt(xml.encode())
    timestamp, nonce = str(int(at or time.time())), str(secrets.randbelow(10**9))
    query = {"msg_signature": crypt.signature(timestamp, nonce, encrypted)}
    query |= {"timestamp": timestamp, "nonce": nonce}
    body = (
        "<xml><ToUserName><![CDATA[wwcorp]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>"
    )
    return Post(query, {}, body.encode())


def wecom_url_check(crypt: MessageCrypt, echo: bytes, at: float | None = None) -> dict[str, str]:
    """The query of WeCom's URL verification (a GET): ``echo`` encrypted as ``echostr``."""
    encrypted = crypt.encrypt(echo)
    timestamp, nonce = str(int(at or time.time())), str(secrets.randbelow(10**9))
    query = {"msg_signature": crypt.signature(timestamp, nonce, encrypted)}
    return query | {"timestamp": timestamp, "nonce": nonce, "echostr": encrypted}


def feishu_post(
    crypt: FeishuCrypt, payload: dict[str, Any], sign: bool = True, at: float | None = None
) -> Post:
    """Feishu's event push: ``{"encrypt"}``, and the X-Lark-* headers over the raw body."""
    body = json.dumps({"encrypt": crypt.encrypt(json.dumps(payload).encode())}).encode()
    timestamp, nonce = str(int(at or time.time())), secrets.token_hex(8)
    headers = {
        "x-lark-request-timestamp": timestamp,
        "x-lark-request-nonce": nonce,
        "x-lark-signature": crypt.signature(timestamp, nonce, body),
    }
    return Post({}, headers if sign else {}, body)
