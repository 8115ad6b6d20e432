"""Approval's use cases with in-memory stores: a request goes to the OA system deciding for its
fonds, on that system's own topic, and only that system's decision counts."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from approval.domain.borrowing import BorrowingRequest, Decision, NotRoutedHere
from approval.domain.oa_states import UnknownState
from approval.domain.routing import NoRoute, OaRoutes
from approval.service import ApprovalService
from approval.vendor_callbacks import Callback, UnknownConnection, UnmappedApprover, VendorCallbacks
from approval.vendors.connection import VendorConnection
from approval.vendors.events import OaInstance, Step
from approval.vendors.feishu_crypt import FeishuCrypt
from approval.vendors.message_crypt import MessageCrypt
from approval.vendors.refusals import CallbackRefused
from contracts.envelope import Envelope, new_event
from contracts.events import OaDecisionMade
from contracts.oa_callback import signed_headers
from contracts.topics import OaConnection
from devkit.testing import RecordingPublisher

KEYS = {"seeyon": b"s" * 32, "weaver": b"w" * 32}


class Requests:
    """In memory, as the real store: a request's n-th change is stored once."""

    def __init__(self) -> None:
        self.requests: dict[uuid.UUID, BorrowingRequest] = {}
        self.changes: dict[tuple[uuid.UUID, int], Decision] = {}
        self.instances: dict[tuple[str, str], uuid.UUID] = {}
        self.trails: dict[tuple[str, str], tuple[tuple[Step, ...], frozenset[str]]] = {}

    async def add(self, r: BorrowingRequest) -> None:
        self.requests[r.request_id] = r

    async def get(self, request_id: uuid.UUID) -> BorrowingRequest | None:
        r = self.requests.get(request_id)
        while r is not None and (d := self.changes.get((request_id, len(r.decisions) + 1))):
            r = r.reached(d)
        return r

    async def save_change(self, request: BorrowingRequest) -> bool:
        assert request.decision is not None
        key = (request.request_id, len(request.decisions))
        return self.changes.setdefault(key, request.decision) is request.decision

    async def bind_instance(self, request_id: uuid.UUID, connection: str, instance: str) -> None:
        self.instances.setdefault((connection, instance), request_id)

    async def instance(self, connection: str, instance: str) -> OaInstance | None:
        request_id = self.instances.get((connection, instance))
        if request_id is None:
            return None
        trail, events = self.trails.get((connection, instance), ((), frozenset()))
        return OaInstance(request_id, trail, events)

    async def record_event(
        self, connection: str, instance: str, event_id: str, steps: tuple[Step, ...]
    ) -> None:
        trail, events = self.trails.get((connection, instance), ((), frozenset()))
        if event_id not in events:
            self.trails[(connection, instance)] = (trail + steps, events | {event_id})


class Nonces:
    def __init__(self) -> None:
        self.seen: set[str] = set()

    async def first_use(self, nonce: str) -> bool:
        fresh = nonce not in self.seen
        self.seen.add(nonce)
        return fresh


class Once:
    async def handle_once(self, event: Envelope[Any], work: Callable[[], Awaitable[None]]) -> bool:
        await work()
        return True


def service() -> tuple[ApprovalService, RecordingPublisher]:
    published = RecordingPublisher()
    routes = OaRoutes({"Q001": "seeyon", "*": "weaver"})
    approval = ApprovalService(
        Requests(), Nonces(), Once(), published, KEYS, routes, "/aap/approval"
    )
    return approval, published


async def filed(approval: ApprovalService, fonds: str) -> BorrowingRequest:
    return await approval.request_borrowing(
        applicant="liuyang", fonds_code=fonds, record_ids=[uuid.uuid4()], reason="审计", days=7
    )


def approved(request: BorrowingRequest) -> OaDecisionMade:
    return OaDecisionMade(
        request_id=request.request_id,
        decision="approved",
        approver="王强",
        oa_instance_id="OA-1",
        decided_at=datetime.now(UTC),
    )


async def test_a_request_goes_on_the_topic_of_the_oa_system_deciding_for_its_fonds() -> None:
    approval, published = service()
    q001, q777 = await filed(approval, "Q001"), await filed(approval, "Q777")
    assert (q001.oa_connection, q777.oa_connection) == ("seeyon", "weaver")
    assert published.topics == [OaConnection("seeyon").requests, OaConnection("weaver").requests]
    assert published.events[0].data.fonds_code == "Q001"


async def test_only_the_routed_oa_system_decides_by_topic_or_by_callback() -> None:
    approval, published = service()
    request = await filed(approval, "Q001")
    event = new_event(approved(request), source="/oa/weaver", subject="s", correlation_id="c")
    with pytest.raises(NotRoutedHere):
        await approval.on_oa_decision(event, "weaver")
    body = approved(request).model_dump_json().encode()
    headers = signed_headers("weaver", KEYS["weaver"], body)
    with pytest.raises(NotRoutedHere):
        await approval.on_signed_callback(
            body=body,
            key_id=headers["X-AAP-Key-Id"],
            timestamp=headers["X-AAP-Timestamp"],
            nonce=headers["X-AAP-Nonce"],
            signature=headers["X-AAP-Signature"],
        )
    assert [e.type for e in published.events] == ["cn.aap.ApprovalRequested.v1"]

    await approval.on_oa_decision(event.model_copy(update={"source": "/oa/seeyon"}), "seeyon")
    decided = published.events[-1].data
    assert decided.decision == "approved" and decided.fonds_code == "Q001"
    assert json.loads(published.events[-1].model_dump_json())["data"]["fonds_code"] == "Q001"


async def test_a_fonds_no_oa_system_decides_for_is_refused_with_its_name() -> None:
    approval = ApprovalService(
        Requests(),
        Nonces(),
        Once(),
        RecordingPublisher(),
        KEYS,
        OaRoutes({"Q001": "seeyon"}),
        "/aap/approval",
    )
    with pytest.raises(NoRoute, match="fonds Q002"):
        await filed(approval, "Q002")


# --- the vendors' own callbacks, built as each vendor's documentation and sample code do ------

AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
USERS = {"manager75": "wangqiang", "caiwu01": "zhaomin", "liuyang-oa": "liuyang"}
DINGTALK = VendorConnection(
    vendor="dingtalk",
    token="t0ken",
    aes_key=AES_KEY,
    receiver_id="dingcorp",
    processes={"PROC-BORROW": "borrowing"},
    users=USERS,
)
WECOM = DINGTALK.model_copy(
    update={"vendor": "wecom", "receiver_id": "wwcorp", "processes": {"C4UE-BORROW": "borrowing"}}
)
FEISHU = VendorConnection(
    vendor="feishu",
    encrypt_key="feishu encrypt key",
    verification_token="v-token",
    processes={"7C468A54-BORROW": "borrowing"},
    users=USERS,
)


async def connected(
    vendor: VendorConnection,
) -> tuple[VendorCallbacks, BorrowingRequest, Requests, RecordingPublisher]:
    """A request routed to connection "seeyon", a ``vendor`` connection, running as OA-1."""
    requests, published = Requests(), RecordingPublisher()
    routes = OaRoutes({"Q001": "seeyon", "*": "weaver"})
    approval = ApprovalService(requests, Nonces(), Once(), published, KEYS, routes, "/aap/approval")
    request = await filed(approval, "Q001")
    await requests.bind_instance(request.request_id, "seeyon", "OA-1")
    published.events.clear()
    return VendorCallbacks(approval, requests, {"seeyon": vendor}), request, requests, published


def dingtalk(event: dict[str, Any], crypt: MessageCrypt | None = None, at: float = 0) -> Callback:
    crypt = crypt or MessageCrypt("t0ken", AES_KEY, "dingcorp")
    encrypted = crypt.encrypt(json.dumps(event, ensure_ascii=False).encode())
    timestamp, nonce = str(int((at or time.time()) * 1000)), "nonce123"
    query = {"signature": crypt.signature(timestamp, nonce, encrypted)}
    query |= {"timestamp": timestamp, "nonce": nonce}
    return Callback("POST", query, {}, json.dumps({"encrypt": encrypted}).encode())


def dingtalk_change(kind: str, **fields: Any) -> dict[str, Any]:
    now = int(time.time() * 1000)
    return {
        "EventType": kind,
        "processInstanceId": "OA-1",
        "corpId": "dingcorp",
        "processCode": "PROC-BORROW",
        "createTime": now - 60_000,
        "finishTime": now,
        "title": "刘洋提交的档案借阅",
        **fields,
    }


def decisions(published: RecordingPublisher) -> list[tuple[str, str]]:
    return [(e.data.decision, e.data.approver) for e in published.events]


async def test_a_dingtalk_approval_is_taken_with_its_approver_trail_and_once() -> None:
    callbacks, request, _, published = await connected(DINGTALK)
    task = dingtalk_change(
        "bpms_task_change", type="finish", result="agree", staffId="manager75", remark="同意借阅"
    )
    finish = dingtalk_change("bpms_instance_change", type="finish", result="agree", staffId="x")
    for event in (task, finish, finish):  # the last: DingTalk's resend, or a replay
        received = await callbacks.receive("seeyon", "dingtalk", dingtalk(event))
        reply = json.loads(received.reply)
        crypt = MessageCrypt("t0ken", AES_KEY, "dingcorp")
        crypt.verify(reply["msg_signature"], reply["timeStamp"], reply["nonce"], reply["encrypt"])
        assert crypt.decrypt(reply["encrypt"]) == b"success"
    assert decisions(published) == [("approved", "wangqiang")]
    decided = published.events[0].data
    assert decided.request_id == request.request_id and decided.comment == "同意借阅"
    assert [(s.approver, s.oa_user_id, s.decision) for s in decided.trail] == [
        ("wangqiang", "manager75", "approved")
    ]


async def test_a_forged_stale_or_garbled_dingtalk_callback_decides_nothing() -> None:
    callbacks, _, _, published = await connected(DINGTALK)
    finish = dingtalk_change("bpms_instance_change", type="finish", result="agree")
    good = dingtalk(finish)
    other_key = MessageCrypt("t0ken", "a" * 43, "dingcorp")
    forged = {**good.query, "signature": "0" * 40}
    for callback, reason in (
        (dingtalk(finish, crypt=MessageCrypt("wrong", AES_KEY, "dingcorp")), "signature"),
        (dingtalk(finish, crypt=other_key), "padding is wrong|receiver"),
        (dingtalk(finish, crypt=MessageCrypt("t0ken", AES_KEY, "other")), "receiver 'other'"),
        (dingtalk(finish, at=time.time() - 600), "s off"),
        (Callback("POST", forged, {}, good.body), "signature does not match"),
        (Callback("POST", good.query, {}, b'{"encrypt": "!!"}'), "signature|base64"),
        (Callback("POST", {}, {}, good.body), "missing signature, timestamp, nonce"),
        (Callback("POST", good.query, {}, b"\xff\xfe"), "not JSON"),
    ):
        with pytest.raises(CallbackRefused, match=reason):
            await callbacks.receive("seeyon", "dingtalk", callback)
    assert published.events == []
    with pytest.raises(UnknownConnection, match="no feishu OA connection named 'seeyon'"):
        await callbacks.receive("seeyon", "feishu", good)


async def test_approvals_the_archive_did_not_start_are_answered_and_left_alone() -> None:
    callbacks, _, _, published = await connected(DINGTALK)
    leave = dingtalk_change(
        "bpms_instance_change", type="finish", result="agree", processCode="PROC-LEAVE"
    )
    stranger = dingtalk_change("bpms_instance_change", type="finish", processInstanceId="OA-X")
    for event in (leave, stranger | {"result": "agree"}, {"EventType": "check_url"}):
        received = await callbacks.receive("seeyon", "dingtalk", dingtalk(event))
        assert json.loads(received.reply)["encrypt"]
    assert published.events == []


def wecom(xml: str, at: float = 0) -> Callback:
    crypt = MessageCrypt("t0ken", AES_KEY, "wwcorp")
    encrypted = crypt.encrypt(xml.encode())
    timestamp, nonce = str(int(at or time.time())), "1372623149"
    query = {"msg_signature": crypt.signature(timestamp, nonce, encrypted)}
    query |= {"timestamp": timestamp, "nonce": nonce}
    body = (
        "<xml><ToUserName><![CDATA[wwcorp]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>"
    )
    return Callback("POST", query, {}, body.encode())


def sys_approval_change(status: int, *details: tuple[str, int, str], change: int = 1) -> str:
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
        "<ApprovalInfo><SpNo>OA-1</SpNo><SpName><![CDATA[档案借阅]]></SpName>"
        f"<SpStatus>{status}</SpStatus><TemplateId><![CDATA[C4UE-BORROW]]></TemplateId>"
        f"<ApplyTime>{now - 60}</ApplyTime><Applyer><UserId><![CDATA[liuyang-oa]]></UserId>"
        f"<Party><![CDATA[1]]></Party></Applyer>{records}"
        f"<StatuChangeEvent>{change}</StatuChangeEvent></ApprovalInfo></xml>"
    )


async def test_a_wecom_approval_revoked_after_approval_withdraws_access() -> None:
    callbacks, _, _, published = await connected(WECOM)
    approved_by = ("caiwu01", 2, "同意")
    for xml in (
        sys_approval_change(1, ("caiwu01", 1, ""), change=1),  # 审批中
        sys_approval_change(2, approved_by, change=2),  # 已通过
        sys_approval_change(2, approved_by, change=2),  # sent again
        sys_approval_change(6, approved_by, change=8),  # 通过后撤销, by the applicant
        sys_approval_change(1, ("caiwu01", 1, ""), change=1),  # a late 审批中
    ):
        received = await callbacks.receive("seeyon", "wecom", wecom(xml))
        assert received.reply == b""
    assert decisions(published) == [("approved", "zhaomin"), ("revoked", "liuyang")]
    assert published.events[0].data.access_until is not None
    assert published.events[1].data.access_until is None


async def test_wecom_url_check_and_hostile_xml() -> None:
    callbacks, _, _, published = await connected(WECOM)
    crypt = MessageCrypt("t0ken", AES_KEY, "wwcorp")
    echo = crypt.encrypt(b"1616140317555161061")
    timestamp, nonce = str(int(time.time())), "263014780"
    query = {"msg_signature": crypt.signature(timestamp, nonce, echo), "timestamp": timestamp}
    query |= {"nonce": nonce, "echostr": echo}
    received = await callbacks.receive("seeyon", "wecom", Callback("GET", query, {}, b""))
    assert received.reply == b"1616140317555161061"
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><xml><Encrypt>&b;</Encrypt></xml>'
    )
    signed = wecom(sys_approval_change(2, ("caiwu01", 2, "同意")))
    with pytest.raises(CallbackRefused, match="not XML we accept"):
        await callbacks.receive(
            "seeyon", "wecom", Callback("POST", signed.query, {}, bomb.encode())
        )
    with pytest.raises(UnknownState, match="WeCom SpStatus 5"):
        await callbacks.receive("seeyon", "wecom", wecom(sys_approval_change(5)))
    assert published.events == []


def feishu(payload: dict[str, Any], sign: bool = True, at: float = 0) -> Callback:
    crypt = FeishuCrypt("feishu encrypt key")
    body = json.dumps({"encrypt": crypt.encrypt(json.dumps(payload).encode())}).encode()
    timestamp, nonce = str(int(at or time.time())), "feishu-nonce"
    headers = {
        "x-lark-request-timestamp": timestamp,
        "x-lark-request-nonce": nonce,
        "x-lark-signature": crypt.signature(timestamp, nonce, body),
    }
    return Callback("POST", {}, headers if sign else {}, body)


def feishu_event(event: dict[str, Any]) -> dict[str, Any]:
    common = {"app_id": "cli_a1", "tenant_key": "t1", "approval_code": "7C468A54-BORROW"}
    return {
        "ts": f"{time.time():.7f}",
        "uuid": uuid.uuid4().hex,
        "token": "v-token",
        "type": "event_callback",
        "event": common
        | {"instance_code": "OA-1", "operate_time": int(time.time() * 1000)}
        | event,
    }


async def test_a_feishu_challenge_and_approval_and_an_unmapped_approver() -> None:
    callbacks, _, _, published = await connected(FEISHU)
    check = {"challenge": "ajls384kdjx98XX", "token": "v-token", "type": "url_verification"}
    received = await callbacks.receive("seeyon", "feishu", feishu(check, sign=False))
    assert json.loads(received.reply) == {"challenge": "ajls384kdjx98XX"}
    with pytest.raises(CallbackRefused, match="Verification Token"):
        await callbacks.receive("seeyon", "feishu", feishu(check | {"token": "guess"}))
    stranger = feishu_event({"type": "approval_task", "status": "APPROVED", "user_id": "ou_x"})
    approved_event = feishu_event({"type": "approval_instance", "status": "APPROVED"})
    await callbacks.receive("seeyon", "feishu", feishu(stranger))
    with pytest.raises(UnmappedApprover, match="OA user ou_x of seeyon approved"):
        await callbacks.receive("seeyon", "feishu", feishu(approved_event))
    assert published.events == []
    task = feishu_event({"type": "approval_task", "status": "APPROVED", "user_id": "manager75"})
    await callbacks.receive("seeyon", "feishu", feishu(task))
    await callbacks.receive("seeyon", "feishu", feishu(approved_event))
    assert decisions(published) == [("approved", "wangqiang")]
    with pytest.raises(CallbackRefused, match="missing X-Lark-Signature"):
        await callbacks.receive("seeyon", "feishu", feishu(approved_event, sign=False))
    with pytest.raises(CallbackRefused, match="s off"):
        await callbacks.receive("seeyon", "feishu", feishu(approved_event, at=time.time() - 900))
    reverted = feishu_event({"type": "approval_instance", "status": "REVERTED"})
    await callbacks.receive("seeyon", "feishu", feishu(reverted))
    assert decisions(published)[-1] == ("revoked", "seeyon")
