"""What the OA vendors post to the approval service, built as their documentation and sample
code do: encrypted with the connection's keys, signed, in each vendor's framing. Tests and the
demo play the vendor with these (the encryption is the one checked against each vendor's
published example in services/approval/tests)."""

from __future__ import annotations

import json
import secrets
import time
import uuid
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


def dingtalk_change(kind: str, instance: str, process: str, **fields: Any) -> dict[str, Any]:
    """A ``bpms_instance_change`` or ``bpms_task_change`` event as DingTalk sends it."""
    now = int(time.time() * 1000)
    return {
        "EventType": kind,
        "processInstanceId": instance,
        "corpId": "dingcorp",
        "processCode": process,
        "createTime": now - 60_000,
        "finishTime": now,
        "title": "刘洋提交的档案借阅",
        **fields,
    }


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


def sys_approval_change(
    instance: str,
    template: str,
    status: int,
    *details: tuple[str, int, str],
    applicant: str = "liuyang-oa",
    change: int = 1,
) -> str:
    """A ``sys_approval_change`` event: ``details`` are (approver, SpStatus, speech)."""
    now = int(time.time())
    records = "".join(
        f"<SpRecord><SpStatus>{s}</SpStatus><ApproverAttr>1</ApproverAttr><Details><Approver>"
        f"<UserId><![CDATA[{user}]]></UserId></Approver><Speech><![CDATA[{speech}]]></Speech>"
        f"<SpStatus>{s}</SpStatus><SpTime>{now if s != 1 else 0}</SpTime></Details></SpRecord>"
        for user, s, speech in details
    )
    return (
        "<xml><ToUserName><![CDATA[wwcorp]]></ToUserName><FromUserName><![CDATA[sys]]>"
        f"</FromUserName><CreateTime>{now + status}</CreateTime><MsgType><![CDATA[event]]>"
        "</MsgType><Event><![CDATA[sys_approval_change]]></Event><AgentID>1000002</AgentID>"
        f"<ApprovalInfo><SpNo>{instance}</SpNo><SpName><![CDATA[档案借阅]]></SpName>"
        f"<SpStatus>{status}</SpStatus><TemplateId><![CDATA[{template}]]></TemplateId>"
        f"<ApplyTime>{now - 60}</ApplyTime><Applyer><UserId><![CDATA[{applicant}]]></UserId>"
        f"<Party><![CDATA[1]]></Party></Applyer>{records}"
        f"<StatuChangeEvent>{change}</StatuChangeEvent></ApprovalInfo></xml>"
    )


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


def feishu_event(
    token: str, approval_code: str, instance: str, event: dict[str, Any]
) -> dict[str, Any]:
    """An approval event in Feishu's 1.0 envelope."""
    common = {"app_id": "cli_standin", "tenant_key": "t1", "approval_code": approval_code}
    return {
        "ts": f"{time.time():.7f}",
        "uuid": uuid.uuid4().hex,
        "token": token,
        "type": "event_callback",
        "event": common
        | {"instance_code": instance, "operate_time": int(time.time() * 1000)}
        | event,
    }
