"""The OA vendors' events, as each vendor's documentation shows them, for tests and the demo to
post; the posts themselves (encrypted, signed, in each vendor's framing) are
``approval.vendors.posts``, which the check command uses too."""

from __future__ import annotations

import time
import uuid
from typing import Any

from approval.vendors.posts import Post, dingtalk_post, feishu_post, wecom_post, wecom_url_check

__all__ = [
    "Post",
    "dingtalk_change",
    "dingtalk_post",
    "feishu_event",
    "feishu_post",
    "sys_approval_change",
    "wecom_post",
    "wecom_url_check",
]


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
