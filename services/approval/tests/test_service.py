"""Approval's use cases with in-memory stores: a request goes to the OA system deciding for its
fonds, on that system's own topic, and only that system's decision counts."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from approval.adapters.http import oa_callback_router
from approval.adapters.record_titles import title_of
from approval.domain.borrowing import (
    BorrowingRequest,
    Decision,
    NotRoutedHere,
    SelfApproval,
    UnmappedApprover,
)
from approval.domain.form_profile import BUILT_IN, load_profiles
from approval.domain.oa_states import UnknownState
from approval.domain.routing import NoRoute, OaRoutes
from approval.expense_approvals import ExpenseApprovals, NoExpenseFiling
from approval.service import ApprovalService, NotOfTheFonds
from approval.vendor_callbacks import Callback, UnknownConnection, VendorCallbacks
from approval.vendor_starts import NoOaUser, VendorStarts
from approval.vendors.connection import ExpenseFiling, VendorConnection
from approval.vendors.events import OaInstance, Step
from approval.vendors.feishu_crypt import FeishuCrypt
from approval.vendors.message_crypt import MessageCrypt
from approval.vendors.refusals import CallbackRefused
from approval.vendors.rest_start import RestStart, RestStarter
from contracts.envelope import Envelope, new_event
from contracts.events import ApprovalRequested, ApprovalStep, OaDecisionMade, RecordArchived
from contracts.oa_callback import signed_headers
from contracts.topics import OaConnection
from devkit import oa_callbacks
from devkit.oa_callbacks import dingtalk_post, feishu_post, wecom_post
from devkit.oa_standin import Held, HeldStep, StandInVendors, serving
from devkit.testing import InMemoryUnits, RecordingPublisher

KEYS = {"seeyon": b"s" * 32, "weaver": b"w" * 32}


class Requests:
    """In memory, as the real store: a request's n-th change is stored once."""

    def __init__(self) -> None:
        self.requests: dict[uuid.UUID, BorrowingRequest] = {}
        self.changes: dict[tuple[uuid.UUID, int], Decision] = {}
        self.instances: dict[tuple[str, str], uuid.UUID] = {}
        self.due: dict[uuid.UUID, int] = {}
        self.open: dict[uuid.UUID, datetime] = {}
        self.trails: dict[tuple[str, str], tuple[tuple[Step, ...], frozenset[str]]] = {}

    async def add(self, r: BorrowingRequest) -> None:
        self.requests[r.request_id] = r
        self.open[r.request_id] = r.requested_at

    async def open_before(self, cutoff: datetime) -> list[uuid.UUID]:
        return [r for r, at in self.open.items() if at < cutoff]

    async def closed(self, request_id: uuid.UUID) -> None:
        self.open.pop(request_id, None)

    async def get(self, request_id: uuid.UUID) -> BorrowingRequest | None:
        r = self.requests.get(request_id)
        while r is not None and (d := self.changes.get((request_id, len(r.decisions) + 1))):
            r = r.reached(d)
        return r

    async def save_change(self, request: BorrowingRequest) -> bool:
        assert request.decision is not None
        key = (request.request_id, len(request.decisions))
        return self.changes.setdefault(key, request.decision) is request.decision

    async def started(self, request_id: uuid.UUID, connection: str, instance: str) -> None:
        self.instances.setdefault((connection, instance), request_id)
        r = self.requests[request_id]
        self.requests[request_id] = replace(r, oa_instance_id=instance, oa_unreachable=None)
        self.due.pop(request_id, None)

    async def start_failed(
        self, request_id: uuid.UUID, reason: str, attempts: int, retry_at: datetime
    ) -> None:
        self.requests[request_id] = replace(self.requests[request_id], oa_unreachable=reason)
        self.due[request_id] = attempts

    async def starts_due(self, now: datetime) -> list[tuple[uuid.UUID, int]]:
        return list(self.due.items())  # every one is due: the test is the clock

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


class Titles:
    """What the service heard of archived records (RecordArchived), by record id."""

    def __init__(self) -> None:
        self.known: dict[uuid.UUID, str] = {}
        self.fonds: dict[uuid.UUID, str] = {}

    async def learn(self, record: RecordArchived) -> None:
        self.known[record.record_id] = title_of(record)
        self.fonds[record.record_id] = record.fonds_code

    async def titles(self, record_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        return {r: self.known[r] for r in record_ids if r in self.known}

    async def fonds_of(self, record_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        return {r: self.fonds[r] for r in record_ids if r in self.fonds}

    def archived(self, fonds: str) -> uuid.UUID:
        """A record of ``fonds`` heard of (untitled: the form names it by its id)."""
        record = uuid.uuid4()
        self.fonds[record] = fonds
        return record


RECORDS = Titles()  # the records the service has heard of, for every test here


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


# The on-premise OAs' users, as their administrators map them to platform principals.
ON_PREMISE_USERS = {
    "seeyon": {"王强": "wangqiang", "wq01": "wangqiang", "刘洋": "liuyang", "liuyang": "liuyang"},
    "weaver": {"王强": "wangqiang", "wangqiang": "wangqiang"},
}


def approval_with(
    requests: Any, published: RecordingPublisher, routes: OaRoutes, **options: Any
) -> ApprovalService:
    """The service as the tests here build it: the on-premise OAs' keys, the records heard of."""
    return ApprovalService(
        requests, Nonces(), Once(), published, InMemoryUnits(), KEYS, routes, "/aap/approval",
        RECORDS, **options,
    )  # fmt: skip


def service() -> tuple[ApprovalService, RecordingPublisher]:
    published = RecordingPublisher()
    routes = OaRoutes({"Q001": "seeyon", "*": "weaver"})
    approval = approval_with(Requests(), published, routes, users=ON_PREMISE_USERS)
    return approval, published


async def filed(approval: ApprovalService, fonds: str) -> BorrowingRequest:
    return await approval.request_borrowing(
        applicant="liuyang",
        fonds_code=fonds,
        record_ids=[RECORDS.archived(fonds)],
        reason="审计",
        days=7,
        mode="view",
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
    approval = approval_with(Requests(), RecordingPublisher(), OaRoutes({"Q001": "seeyon"}))
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
    app_id="ding-app-key",
    app_secret="ding-app-secret",
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
    app_id="cli_standin",
    app_secret="feishu-app-secret",
    processes={"7C468A54-BORROW": "borrowing"},
    users=USERS,
)


async def connected(
    vendor: VendorConnection,
) -> tuple[VendorCallbacks, BorrowingRequest, Requests, RecordingPublisher]:
    """A request routed to connection "seeyon", a ``vendor`` connection, running as OA-1."""
    requests, published = Requests(), RecordingPublisher()
    routes = OaRoutes({"Q001": "seeyon", "*": "weaver"})
    approval = approval_with(requests, published, routes)
    request = await filed(approval, "Q001")
    await requests.started(request.request_id, "seeyon", "OA-1")  # started as OA-1 in the OA
    published.events.clear()
    callbacks = VendorCallbacks(
        approval, requests, {"seeyon": vendor}, ExpenseApprovals(published, {}, "/aap/approval")
    )
    return callbacks, request, requests, published


def dingtalk(event: dict[str, Any], crypt: MessageCrypt | None = None, at: float = 0) -> Callback:
    post = dingtalk_post(crypt or MessageCrypt("t0ken", AES_KEY, "dingcorp"), event, at or None)
    return Callback("POST", post.query, post.headers, post.body)


def dingtalk_change(kind: str, **fields: Any) -> dict[str, Any]:
    return oa_callbacks.dingtalk_change(kind, "OA-1", "PROC-BORROW", **fields)


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
    post = wecom_post(MessageCrypt("t0ken", AES_KEY, "wwcorp"), xml, at or None)
    return Callback("POST", post.query, post.headers, post.body)


def sys_approval_change(status: int, *details: tuple[str, int, str], change: int = 1) -> str:
    return oa_callbacks.sys_approval_change("OA-1", "C4UE-BORROW", status, *details, change=change)


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
    post = feishu_post(FeishuCrypt("feishu encrypt key"), payload, sign, at or None)
    return Callback("POST", post.query, post.headers, post.body)


def feishu_event(event: dict[str, Any]) -> dict[str, Any]:
    return oa_callbacks.feishu_event("v-token", "7C468A54-BORROW", "OA-1", event)


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
    with pytest.raises(UnmappedApprover, match="approved in seeyon, OA user ou_x: mapped to no"):
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


async def test_a_request_starts_its_approval_in_the_vendors_oa_and_again_after_an_outage() -> None:
    standin = StandInVendors()
    async with serving(standin.app()) as base, httpx.AsyncClient(timeout=5) as http:
        config = DINGTALK.model_copy(update={"api_base": base})
        requests, published = Requests(), RecordingPublisher()
        titles = Titles()
        starts = VendorStarts(
            requests, requests, {"seeyon": config}, {"seeyon": config.starter(http)}, titles
        )
        routes = OaRoutes({"Q001": "seeyon", "*": "weaver"})
        approval = approval_with(requests, published, routes, starter=starts)
        standin.outage = 1
        request = await filed(approval, "Q001")
        assert request.oa_unreachable == "/v1.0/oauth2/accessToken: HTTP 503"
        assert request.oa_instance_id is None and standin.started == []
        # Meanwhile the service heard of the record: the OA's form names it as the archive does.
        titles.known[request.record_ids[0]] = "Q001-2025-D30-PZ-000007 报销市场部差旅费"
        assert await starts.start_due() == 1  # the vendor is back
        [started] = standin.started
        stored = await requests.get(request.request_id)
        assert stored is not None and stored.oa_instance_id == started.instance_id
        assert stored.oa_unreachable is None
        assert started.body["originatorUserId"] == "liuyang-oa"  # the applicant, in the OA
        values = {v["name"]: v["value"] for v in started.body["formComponentValues"]}
        assert values["借阅事由"] == "审计" and values["借阅天数"] == "7"
        assert values["借阅档案"] == "Q001-2025-D30-PZ-000007 报销市场部差旅费"
        assert await starts.start_due() == 0  # started once
        # Who has no user in the OA cannot be asked about: refused when filing, naming why.
        unknown = config.model_copy(update={"users": {"manager75": "wangqiang"}})
        starts = VendorStarts(requests, requests, {"seeyon": unknown}, {}, Titles())
        approval = approval_with(requests, published, routes, starter=starts)
        with pytest.raises(NoOaUser, match="liuyang has no user in OA connection seeyon"):
            await filed(approval, "Q001")


async def test_an_oa_posting_its_own_form_decides_through_its_connections_profile() -> None:
    published = RecordingPublisher()
    routes = OaRoutes({"Q001": "seeyon", "*": "weaver"})
    profiles = {"seeyon": load_profiles(BUILT_IN)["weaver-e9"]}
    approval = approval_with(
        Requests(),
        published,
        routes,
        profiles=profiles,
        users={"seeyon": {"wangqiang": "wangqiang"}},
    )
    request = await filed(approval, "Q001")
    published.events.clear()
    form = {
        "requestid": "2025030500731",
        "src": "submit",
        "remark": "同意",
        "operator": {"loginid": "wangqiang"},
        "operatedate": "2025-03-05",
        "operatetime": "09:30:00",
        "mainTable": {"aap_request_id": str(request.request_id)},
    }
    body = json.dumps(form, ensure_ascii=False).encode()
    headers = signed_headers("seeyon", KEYS["seeyon"], body)
    decided = await approval.on_signed_callback(
        body=body,
        key_id=headers["X-AAP-Key-Id"],
        timestamp=headers["X-AAP-Timestamp"],
        nonce=headers["X-AAP-Nonce"],
        signature=headers["X-AAP-Signature"],
    )
    assert decided.status.value == "approved"
    assert decisions(published) == [("approved", "wangqiang")]
    assert published.events[0].data.oa_instance_id == "2025030500731"


async def test_a_request_undecided_too_long_expires_and_is_withdrawn_in_its_oa() -> None:
    standin = StandInVendors()
    async with serving(standin.app()) as base, httpx.AsyncClient(timeout=5) as http:
        config = DINGTALK.model_copy(update={"api_base": base})
        requests, published = Requests(), RecordingPublisher()
        titles = Titles()
        starts = VendorStarts(
            requests, requests, {"seeyon": config}, {"seeyon": config.starter(http)}, titles
        )
        every_request_overdue = timedelta(0)
        approval = approval_with(
            requests, published, OaRoutes({"*": "seeyon"}), starter=starts,
            decide_within=every_request_overdue,
        )  # fmt: skip
        request = await filed(approval, "Q001")
        [started] = standin.started
        published.events.clear()
        assert await approval.expire_overdue() == 1
        assert decisions(published) == [("expired", "aap-approval")]
        assert published.events[0].data.access_until is None
        assert standin.terminated == [started.instance_id]  # withdrawn in DingTalk too
        assert await approval.expire_overdue() == 0  # once
        # DingTalk's approval arriving after that grants nothing: the applicant files again.
        expenses = ExpenseApprovals(published, {}, "/aap/approval")
        callbacks = VendorCallbacks(approval, requests, {"seeyon": config}, expenses)
        finish = oa_callbacks.dingtalk_change(
            "bpms_instance_change", started.instance_id, "PROC-BORROW", type="finish",
            result="agree",
        )  # fmt: skip
        task = oa_callbacks.dingtalk_change(
            "bpms_task_change", started.instance_id, "PROC-BORROW", type="finish",
            result="agree", staffId="manager75",
        )  # fmt: skip
        for event in (task, finish):
            await callbacks.receive("seeyon", "dingtalk", dingtalk(event))
        assert decisions(published) == [("expired", "aap-approval")]
        stored = await requests.get(request.request_id)
        assert stored is not None and stored.status.value == "expired"


async def test_an_event_declaring_an_encoding_that_is_none_is_refused_not_a_crash() -> None:
    """Found by the hostile corpus: an XML declaration naming the codec "base64" made the
    parser raise LookupError, a 500 where a named refusal belongs."""
    callbacks, _, _, published = await connected(WECOM)
    declared = '<?xml version="1.0" encoding="base64"?><xml><Event>x</Event></xml>'
    with pytest.raises(CallbackRefused, match="not XML we accept"):
        await callbacks.receive("seeyon", "wecom", wecom(declared))
    assert published.events == []


async def test_an_oa_on_kafka_can_revoke_an_approval_and_send_its_trail() -> None:
    approval, published = service()
    request = await filed(approval, "Q001")
    approve = new_event(approved(request), source="/oa/seeyon", subject="s", correlation_id="c")
    await approval.on_oa_decision(approve, "seeyon")
    step = ApprovalStep(approver="王强", oa_user_id="wq01", decision="approved", comment="同意")
    revoke = approved(request).model_copy(
        update={"decision": "revoked", "approver": "liuyang", "trail": (step,)}
    )
    await approval.on_oa_decision(
        new_event(revoke, source="/oa/seeyon", subject="s", correlation_id="c"), "seeyon"
    )
    published.events.pop(0)  # the request
    assert decisions(published) == [("approved", "wangqiang"), ("revoked", "liuyang")]
    # The trail names the OA's users as platform principals, and as the OA sent them.
    assert published.events[1].data.trail == (step.model_copy(update={"approver": "wangqiang"}),)


async def test_an_on_premise_approver_is_a_platform_principal_or_decides_nothing() -> None:
    """Once, the signed callback took the OA's approver name as it came: an OA user "刘洋"
    approving 刘洋's own request was not the applicant "liuyang", and an OA user no principal
    answers to granted access. Now each is mapped, or the approval is refused."""
    approval, published = service()
    request = await filed(approval, "Q001")  # by liuyang
    own = approved(request).model_copy(update={"approver": "刘洋"})
    with pytest.raises(SelfApproval):
        await approval.on_oa_decision(
            new_event(own, source="/oa/seeyon", subject="s", correlation_id="c"), "seeyon"
        )
    stranger = approved(request).model_copy(update={"approver": "张三"})
    with pytest.raises(UnmappedApprover, match="OA user '张三': mapped to no platform principal"):
        await approval.on_oa_decision(
            new_event(stranger, source="/oa/seeyon", subject="s", correlation_id="c"), "seeyon"
        )
    assert [type(e.data) for e in published.events] == [ApprovalRequested]  # no decision
    published.events.clear()
    # A rejection by someone unmapped stands: it grants nothing, and names them by the OA.
    rejected = stranger.model_copy(update={"decision": "rejected"})
    await approval.on_oa_decision(
        new_event(rejected, source="/oa/seeyon", subject="s", correlation_id="c"), "seeyon"
    )
    assert decisions(published)[-1] == ("rejected", "seeyon:张三")


async def test_a_dingtalk_finish_before_its_approvers_task_waits_for_the_resend() -> None:
    """DingTalk's instance event names no approver; its task event does, and may come later.
    The approval is refused until then (DingTalk resends), and taken once it can be attributed."""
    callbacks, _, _, published = await connected(DINGTALK)
    finish = dingtalk_change("bpms_instance_change", type="finish", result="agree")
    task = dingtalk_change("bpms_task_change", type="finish", result="agree", staffId="manager75")
    with pytest.raises(UnmappedApprover, match="no approver reported yet"):
        await callbacks.receive("seeyon", "dingtalk", dingtalk(finish))
    assert published.events == []
    await callbacks.receive("seeyon", "dingtalk", dingtalk(task))
    await callbacks.receive("seeyon", "dingtalk", dingtalk(finish))  # DingTalk's resend
    assert decisions(published) == [("approved", "wangqiang")]


# --- expense approvals (报销审批): archived as records, read from the vendor's API ------------

EXPENSE_FORM = (
    ("报销事由", "北京出差差旅费"),
    ("报销金额", "1280.00"),
    ("发票号码", "25440001，25440002"),
)
FILING = {"fonds_code": "Q001", "keys": {"发票号码": "invoice_number"}}


def held(vendor: str, process: str, paid: bool = False) -> Held:
    at = datetime(2026, 3, 5, 1, 30, tzinfo=UTC)
    return Held(
        vendor=vendor,
        process_code=process,
        title="差旅费报销",
        applicant="liuyang-oa",
        form=EXPENSE_FORM,
        steps=(
            HeldStep("manager75", "approved", "同意", at),
            HeldStep("caiwu01", "approved", "票据齐全", at + timedelta(hours=1)),
        ),
        started_at=at - timedelta(days=1),
        paid=paid,
    )


def expense_connection(
    config: VendorConnection, base: str, process: str, **changes: Any
) -> VendorConnection:
    """``config`` running ``process`` as its expense approval, against the stand-in at ``base``."""
    fields = dict(config) | {"api_base": base, "processes": {process: "expense"}, "expense": FILING}
    return VendorConnection(**(fields | changes))  # validated, as configured


async def test_an_expense_approval_of_each_vendor_is_read_from_its_api_and_announced() -> None:
    standin = StandInVendors()
    async with serving(standin.app()) as base, httpx.AsyncClient(timeout=5) as http:
        ding_config = expense_connection(DINGTALK, base, "PROC-EXP")
        wecom_config = expense_connection(
            WECOM,
            base,
            "C4UE-EXP",
            receiver_id=standin.wecom_corp[0],
            app_secret=standin.wecom_corp[1],
        )
        feishu_config = expense_connection(FEISHU, base, "7C468A54-EXP")
        configs = {"seeyon": ding_config, "weaver": wecom_config, "lark": feishu_config}
        published = RecordingPublisher()
        apis = {name: c.starter(http) for name, c in configs.items()}
        callbacks = VendorCallbacks(
            approval_with(Requests(), published, OaRoutes({"*": "seeyon"})),
            Requests(),
            configs,
            ExpenseApprovals(published, apis, "/aap/approval"),
        )
        # 钉钉: the instance finished, agreed.
        ding = standin.hold(held("dingtalk", "PROC-EXP"))
        finish = oa_callbacks.dingtalk_change(
            "bpms_instance_change", ding, "PROC-EXP", type="finish", result="agree"
        )
        await callbacks.receive("seeyon", "dingtalk", dingtalk(finish))
        # 企业微信: 已通过, then 已支付 (sent twice): one record, of the first word.
        sp_no = standin.hold(held("wecom", "C4UE-EXP", paid=True))
        crypt = MessageCrypt("t0ken", AES_KEY, standin.wecom_corp[0])
        for status, change in ((1, 1), (10, 3), (10, 3)):
            xml = oa_callbacks.sys_approval_change(sp_no, "C4UE-EXP", status, change=change)
            post = wecom_post(crypt, xml, None)
            await callbacks.receive(
                "weaver", "wecom", Callback("POST", post.query, post.headers, post.body)
            )
        # 飞书: APPROVED.
        lark = standin.hold(held("feishu", "7C468A54-EXP"))
        event = oa_callbacks.feishu_event(
            "v-token", "7C468A54-EXP", lark, {"type": "approval_instance", "status": "APPROVED"}
        )
        await callbacks.receive("lark", "feishu", feishu(event))

    announced = [e.data for e in published.events]
    assert [(a.vendor, a.instance_id, a.outcome) for a in announced] == [
        ("dingtalk", ding, "approved"),
        ("wecom", sp_no, "paid"),
        ("wecom", sp_no, "paid"),  # the resend: the same event id, which consumers skip
        ("feishu", lark, "approved"),
    ]
    assert published.events[1].id == published.events[2].id
    for a in announced:
        assert a.title == "差旅费报销" and a.applicant == "liuyang-oa" and a.fonds_code == "Q001"
        assert [(f.label, f.value) for f in a.form] == list(EXPENSE_FORM)
        # Two invoice numbers in one field, split on the full-width comma.
        assert [k.value for k in a.business_keys] == ["25440001", "25440002"]
        assert [(s.oa_user_id, s.principal, s.decision, s.comment) for s in a.trail] == [
            ("manager75", "wangqiang", "approved", "同意"),
            ("caiwu01", "zhaomin", "approved", "票据齐全"),
        ]
        assert a.trail[1].decided_at == datetime(2026, 3, 5, 2, 30, tzinfo=UTC)
    assert announced[0].approval_key == f"dingtalk|dingcorp|{ding}"


async def test_an_on_premise_oa_is_started_by_its_configured_rest_call() -> None:
    """泛微 e-cology's create-request call, as the customer configures it: nothing vendor-specific
    in the code."""
    standin = StandInVendors()
    async with serving(standin.app()) as base, httpx.AsyncClient(timeout=5) as http:
        config = RestStart(
            url=f"{base}/api/workflow/paService/doCreateRequest",
            headers={"token": SecretStr(standin.weaver_token)},
            body={
                "workflowId": "1024",
                "requestName": "{title}",
                "mainData": [
                    {"fieldName": "aap_request_id", "fieldValue": "{request_id}"},
                    {"fieldName": "jysy", "fieldValue": "借阅事由：{reason}"},
                    {"fieldName": "jyda", "fieldValue": "{records}"},
                    {"fieldName": "sqr", "fieldValue": "{applicant_oa}"},
                ],
            },
            instance_id="data.requestid",
            users={"liuyang-oa": "liuyang"},
        )
        requests, published, titles = Requests(), RecordingPublisher(), Titles()
        starts = VendorStarts(
            requests, requests, {"seeyon": config}, {"seeyon": RestStarter(config, http)}, titles
        )
        routes = OaRoutes({"*": "seeyon"})
        approval = approval_with(requests, published, routes, starter=starts)
        record = RECORDS.archived("Q001")
        titles.known[record] = "Q001-2025-D30-PZ-000007 报销市场部差旅费"
        request = await approval.request_borrowing(
            applicant="liuyang",
            fonds_code="Q001",
            record_ids=[record],
            reason="{title}",
            days=7,
            mode="copy",
        )
        [started] = standin.started
        assert request.oa_instance_id == started.instance_id and started.vendor == "weaver"
        assert started.body["workflowId"] == "1024"
        assert started.body["requestName"].startswith("档案借阅 Q001 1 件 7 天 复制")
        fields = {f["fieldName"]: f["fieldValue"] for f in started.body["mainData"]}
        assert fields == {
            "aap_request_id": str(request.request_id),
            "jysy": "借阅事由：{title}",  # what the applicant typed is text, never a template
            "jyda": "Q001-2025-D30-PZ-000007 报销市场部差旅费",
            "sqr": "liuyang-oa",
        }
        # A token the OA does not know: the request is kept, saying what the OA answered.
        wrong = config.model_copy(update={"headers": {"token": SecretStr("guess")}})
        starts = VendorStarts(
            requests, requests, {"seeyon": wrong}, {"seeyon": RestStarter(wrong, http)}, titles
        )
        approval = approval_with(requests, published, routes, starter=starts)
        refused = await filed(approval, "Q001")
        assert refused.oa_instance_id is None
        assert refused.oa_unreachable is not None and "NO_PERMISSION" in refused.oa_unreachable


async def test_an_on_premise_oa_posts_its_finished_expense_approval_signed() -> None:
    """泛微, 致远, 蓝凌: the OA posts the approval itself (its form and trail), signed with the
    connection's key as its decisions are; announced for the archive like the vendors'."""
    published = RecordingPublisher()
    routes = OaRoutes({"*": "seeyon"})
    approval = approval_with(Requests(), published, routes)
    filing = ExpenseFiling(fonds_code="Q001", keys={"发票号码": "invoice_number"})
    expenses = ExpenseApprovals(published, {}, "/aap/approval", {"seeyon": filing})
    app = FastAPI()
    app.include_router(oa_callback_router(approval, expenses))
    posted = {
        "instance_id": "88231",
        "title": "付款审批 上海澄明",
        "applicant": "zhangwei",
        "outcome": "paid",
        "form": [{"label": "付款事由", "value": "采购打印纸"},
                 {"label": "发票号码", "value": "25310001；25310002"}],
        "trail": [{"oa_user_id": "wangqiang", "decision": "approved", "comment": "同意",
                   "decided_at": "2026-03-05T09:30:00+08:00", "principal": "forged"}],
        "finished_at": "2026-03-05T10:00:00+08:00",
    }  # fmt: skip
    body = json.dumps(posted, ensure_ascii=False).encode()
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://approval") as http:
        headers = signed_headers("seeyon", KEYS["seeyon"], body)
        r = await http.post("/v1/oa/approval-records", content=body, headers=headers)
        assert r.status_code == 202, r.text
        assert r.json()["business_keys"] == [
            {"kind": "invoice_number", "value": "25310001"},
            {"kind": "invoice_number", "value": "25310002"},
        ]
        r = await http.post("/v1/oa/approval-records", content=body, headers=headers)
        assert r.status_code == 401 and "replayed" in r.json()["detail"]
        forged = signed_headers("seeyon", b"k" * 32, body)
        r = await http.post("/v1/oa/approval-records", content=body, headers=forged)
        assert r.status_code == 401
        garbled = b'{"instance_id": "1", "outcome": "maybe"}'
        r = await http.post(
            "/v1/oa/approval-records",
            content=garbled,
            headers=signed_headers("seeyon", KEYS["seeyon"], garbled),
        )
        assert r.status_code == 422 and "outcome" in r.json()["detail"]
        # Weaver has a key but files no expense approvals: refused, naming the setting.
        with pytest.raises(NoExpenseFiling, match="AAP_APPROVAL_OA_EXPENSE_FILINGS"):
            await http.post(
                "/v1/oa/approval-records",
                content=body,
                headers=signed_headers("weaver", KEYS["weaver"], body),
            )
    [announced] = [e.data for e in published.events]
    assert announced.approval_key == "oa|seeyon|88231" and announced.fonds_code == "Q001"
    assert announced.outcome == "paid" and announced.applicant == "zhangwei"
    # The OA's user ids are its own: no principal is taken from what it posted.
    assert [(s.oa_user_id, s.principal) for s in announced.trail] == [("wangqiang", None)]
    assert announced.finished_at == datetime(2026, 3, 5, 2, 0, tzinfo=UTC)


async def test_a_request_names_records_of_its_own_fonds_only() -> None:
    """Once, a Q003 request naming a Q002 record was filed, and Q003's OA form showed that
    record's 档号 and 摘要 to the applicant and Q003's approvers."""
    approval, published = service()
    theirs, nowhere = RECORDS.archived("Q002"), uuid.uuid4()
    for record in (theirs, nowhere):  # one answer: nothing is learned of where it is
        with pytest.raises(NotOfTheFonds) as refused:
            await approval.request_borrowing(
                applicant="liuyang",
                fonds_code="Q003",
                record_ids=[record],
                reason="x",
                days=3,
                mode="view",
            )
        assert str(refused.value) == f"not records of fonds Q003 the archive holds: {record}"
    assert published.events == []
