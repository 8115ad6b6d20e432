"""Starting approvals in the vendors' OAs, against a local HTTP server that stands in for the
vendors' APIs (devkit.oa_standin): the SaaS endpoints cannot be reached from here."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from approval.vendors.starters import (
    DingTalkStarter,
    FeishuStarter,
    OaStartFailed,
    StartForm,
    VendorStarter,
    WeComStarter,
)
from devkit.oa_standin import StandInVendors, serving

FIELDS = (("借阅事由", "2025年度审计抽凭"), ("借阅天数", "7"))


def form(process: str) -> StartForm:
    return StartForm(uuid.uuid4(), "liuyang-oa", process, "档案借阅 Q001 1 件 7 天", FIELDS)


@pytest.fixture
async def vendor() -> AsyncIterator[tuple[StandInVendors, str, httpx.AsyncClient]]:
    standin = StandInVendors()
    async with serving(standin.app()) as base, httpx.AsyncClient(timeout=5) as http:
        yield standin, base, http


def starters(base: str, http: httpx.AsyncClient, v: StandInVendors) -> dict[str, VendorStarter]:
    return {
        "dingtalk": DingTalkStarter(base, http, *v.dingtalk_app),
        "feishu": FeishuStarter(base, http, *v.feishu_app),
        "wecom": WeComStarter(base, http, *v.wecom_corp),
    }


@pytest.mark.parametrize("name", ["dingtalk", "feishu", "wecom"])
async def test_an_approval_is_started_with_the_form_and_one_token_until_it_expires(
    vendor: tuple[StandInVendors, str, httpx.AsyncClient], name: str
) -> None:
    standin, base, http = vendor
    starter = starters(base, http, standin)[name]
    first = await starter.start(form("PROC-BORROW"))
    second = await starter.start(form("PROC-BORROW"))
    assert first != second and standin.tokens_issued == 1  # the token is cached
    assert [s.instance_id for s in standin.started] == [first, second]
    body = standin.started[0].body
    if name == "dingtalk":
        assert body["originatorUserId"] == "liuyang-oa" and body["processCode"] == "PROC-BORROW"
        assert body["formComponentValues"][0] == {"name": "借阅事由", "value": "2025年度审计抽凭"}
    elif name == "feishu":
        assert body["user_id"] == "liuyang-oa" and body["approval_code"] == "PROC-BORROW"
        assert json.loads(body["form"])[1] == {"id": "借阅天数", "type": "input", "value": "7"}
        assert standin.subscribed == {"PROC-BORROW"}  # else Feishu would send no events
    else:
        assert body["creator_userid"] == "liuyang-oa" and body["template_id"] == "PROC-BORROW"
        assert body["apply_data"]["contents"][0]["value"] == {"text": "2025年度审计抽凭"}
    standin.expire_tokens()  # two hours later
    await starter.start(form("PROC-BORROW"))
    assert standin.tokens_issued == 2 and len(standin.started) == 3


@pytest.mark.parametrize("name", ["dingtalk", "feishu", "wecom"])
async def test_an_outage_may_pass_and_a_wrong_secret_will_not(
    vendor: tuple[StandInVendors, str, httpx.AsyncClient], name: str
) -> None:
    standin, base, http = vendor
    standin.outage = 1
    with pytest.raises(OaStartFailed, match="HTTP 503") as outage:
        await starters(base, http, standin)[name].start(form("PROC-BORROW"))
    assert outage.value.transient
    wrong = StandInVendors(
        dingtalk_app=("ding-app-key", "x"), feishu_app=("cli_standin", "x"), wecom_corp=("w", "x")
    )
    with pytest.raises(OaStartFailed, match="token refused") as refused:
        await starters(base, http, wrong)[name].start(form("PROC-BORROW"))
    assert not refused.value.transient
    unreachable = starters("http://127.0.0.1:9", http, standin)[name]  # nothing listens there
    with pytest.raises(OaStartFailed, match="ConnectError") as down:
        await unreachable.start(form("PROC-BORROW"))
    assert down.value.transient and standin.started == []


async def test_a_feishu_create_sent_twice_makes_one_instance(
    vendor: tuple[StandInVendors, str, httpx.AsyncClient],
) -> None:
    standin, base, http = vendor
    starter = starters(base, http, standin)["feishu"]
    again = form("PROC-BORROW")
    assert await starter.start(again) == await starter.start(again)
    assert len(standin.started) == 1


@pytest.mark.parametrize("name", ["dingtalk", "feishu", "wecom"])
async def test_an_approval_is_withdrawn_where_the_vendor_offers_it(
    vendor: tuple[StandInVendors, str, httpx.AsyncClient], name: str
) -> None:
    standin, base, http = vendor
    starter = starters(base, http, standin)[name]
    asked = form("PROC-BORROW")
    instance = await starter.start(asked)
    withdrawn = await starter.cancel(asked, instance, "未在14天内审批")
    # DingTalk terminates, Feishu cancels; WeCom has no such call (its applicant withdraws).
    assert withdrawn is (name != "wecom")
    assert standin.terminated == ([instance] if withdrawn else [])
    if withdrawn:
        with pytest.raises(OaStartFailed, match="refused"):
            await starter.cancel(asked, "no-such-instance", "未在14天内审批")
