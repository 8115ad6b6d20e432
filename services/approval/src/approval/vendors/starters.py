"""Starting the approval in the vendor's OA (outbound): each vendor's token and create-instance
call, as the vendor documents them.

- 钉钉 DingTalk: ``POST /v1.0/oauth2/accessToken`` (appKey, appSecret), then
  ``POST /v1.0/workflow/processInstances`` (header ``x-acs-dingtalk-access-token``) →
  ``instanceId``.
- 飞书 Feishu: ``POST /open-apis/auth/v3/tenant_access_token/internal``, the approval
  definition subscribed once (``/open-apis/approval/v4/approvals/{code}/subscribe``: without it
  Feishu sends no approval events), then ``POST /open-apis/approval/v4/instances`` →
  ``data.instance_code``.
- 企业微信 WeCom: ``GET /cgi-bin/gettoken`` (corpid, corpsecret), then
  ``POST /cgi-bin/oa/applyevent`` → ``sp_no``.

The same clients read an approval's details once it finished (its form and approver trail: the
callbacks carry neither), for the expense approvals the archive keeps as records:
DingTalk ``GET /v1.0/workflow/processInstances``, Feishu
``GET /open-apis/approval/v4/instances/{id}``, WeCom ``POST /cgi-bin/oa/getapprovaldetail``.

Tokens are cached until shortly before they expire, and fetched again at once when the vendor
says a token is invalid or expired (one retry). A failure says whether trying later may help
(``OaStartFailed.transient``: the network, the vendor's 5xx or rate limit) or not (the vendor
refused what we sent: a configuration to fix).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import httpx

from approval.vendors.events import Step, StepDecision

T = TypeVar("T")
TOKEN_MARGIN_SECONDS = 300  # fetch a new token this long before the old one expires


@dataclass(frozen=True)
class StartForm:
    """What the OA's approval form is filled with, by the connection's form field names."""

    request_id: uuid.UUID
    originator: str  # the applicant's user id in the OA
    process_code: str
    title: str
    fields: tuple[tuple[str, str], ...]  # (the OA's field name or id, value)
    applicant: str = ""  # the platform principal


class OaStarter(Protocol):
    """Starts (and where it can, withdraws) an approval in one OA."""

    async def start(self, form: StartForm) -> str: ...

    async def cancel(self, form: StartForm, instance: str, reason: str) -> bool: ...


@dataclass(frozen=True)
class InstanceDetail:
    """A finished approval as the vendor's API reports it."""

    title: str
    applicant: str  # the OA user id
    form: tuple[tuple[str, str], ...]  # (label, value) in the form's order
    steps: tuple[Step, ...]
    paid: bool = False  # WeCom 已支付
    started_at: datetime | None = None


class OaStartFailed(Exception):
    def __init__(self, reason: str, *, transient: bool) -> None:
        super().__init__(reason)
        self.transient = transient


class TokenExpired(Exception):
    """The vendor says the access token is invalid or expired."""


class TokenCache:
    """One access token, fetched when missing or about to expire, never two fetches at once."""

    def __init__(self, fetch: Callable[[], Awaitable[tuple[str, float]]]) -> None:
        self._fetch, self._lock = fetch, asyncio.Lock()
        self._token: str | None = None
        self._until = 0.0

    async def get(self) -> str:
        async with self._lock:
            if self._token is None or time.monotonic() >= self._until:
                token, lifetime = await self._fetch()
                self._token = token
                self._until = time.monotonic() + max(lifetime - TOKEN_MARGIN_SECONDS, 0)
            return self._token

    def forget(self, token: str) -> None:
        if self._token == token:
            self._token = None


class VendorStarter:
    """What the three vendors share: a token cache, a client, one retry on an expired token."""

    def __init__(self, base: str, http: httpx.AsyncClient) -> None:
        self._base, self._http = base.rstrip("/"), http
        self._tokens = TokenCache(self._fetch_token)

    async def start(self, form: StartForm) -> str:
        """The OA's instance id for the approval just started."""
        return await self._with_token(lambda token: self._create(token, form))

    async def cancel(self, form: StartForm, instance: str, reason: str) -> bool:
        """Withdraw the instance in the OA; False where the vendor offers no way to."""
        return await self._with_token(lambda token: self._cancel(token, form, instance, reason))

    async def details(self, instance: str) -> InstanceDetail:
        """The form and trail of an approval instance, from the vendor's API."""
        return await self._with_token(lambda token: self._detail(token, instance))

    async def _with_token(self, call: Callable[[str], Awaitable[T]]) -> T:
        """``call`` with the cached token, and once more with a fresh one if the vendor says
        the cached one expired."""
        token = await self._tokens.get()
        try:
            return await call(token)
        except TokenExpired:
            self._tokens.forget(token)
        try:
            return await call(await self._tokens.get())
        except TokenExpired:
            raise OaStartFailed("the vendor refused a fresh token", transient=True) from None

    async def _fetch_token(self) -> tuple[str, float]:
        raise NotImplementedError

    async def _create(self, token: str, form: StartForm) -> str:
        raise NotImplementedError

    async def _detail(self, token: str, instance: str) -> InstanceDetail:
        raise NotImplementedError

    async def _cancel(self, token: str, form: StartForm, instance: str, reason: str) -> bool:
        return False  # WeCom: an application is withdrawn by its applicant only

    async def _call(self, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        try:
            r = await self._http.request(method, self._base + path, **kwargs)
        except httpx.HTTPError as error:
            raise OaStartFailed(f"{path}: {type(error).__name__}", transient=True) from error
        if r.status_code >= 500 or r.status_code == 429:
            raise OaStartFailed(f"{path}: HTTP {r.status_code}", transient=True)
        try:
            body = r.json()
        except ValueError as error:
            raise OaStartFailed(
                f"{path}: HTTP {r.status_code}, not JSON", transient=True
            ) from error
        if not isinstance(body, dict):
            raise OaStartFailed(f"{path}: the answer is not a JSON object", transient=True)
        return r.status_code, body


class DingTalkStarter(VendorStarter):
    def __init__(self, base: str, http: httpx.AsyncClient, app_key: str, app_secret: str) -> None:
        super().__init__(base, http)
        self._key, self._secret = app_key, app_secret

    async def _fetch_token(self) -> tuple[str, float]:
        status, body = await self._call(
            "POST",
            "/v1.0/oauth2/accessToken",
            json={"appKey": self._key, "appSecret": self._secret},
        )
        if status != 200 or not isinstance(body.get("accessToken"), str):
            raise OaStartFailed(f"DingTalk token refused: {_said(body)}", transient=False)
        return body["accessToken"], float(body.get("expireIn", 7200))

    async def _create(self, token: str, form: StartForm) -> str:
        status, body = await self._call(
            "POST",
            "/v1.0/workflow/processInstances",
            headers={"x-acs-dingtalk-access-token": token},
            json={
                "originatorUserId": form.originator,
                "processCode": form.process_code,
                "formComponentValues": [{"name": n, "value": v} for n, v in form.fields],
            },
        )
        if status == 401 or body.get("code") == "InvalidAuthentication":
            raise TokenExpired
        if status != 200 or not isinstance(body.get("instanceId"), str):
            raise OaStartFailed(f"DingTalk refused the instance: {_said(body)}", transient=False)
        return str(body["instanceId"])

    async def _cancel(self, token: str, form: StartForm, instance: str, reason: str) -> bool:
        status, body = await self._call(
            "POST",
            "/v1.0/workflow/processInstances/terminate",
            headers={"x-acs-dingtalk-access-token": token},
            json={"processInstanceId": instance, "isSystem": True, "remark": reason},
        )
        if status == 401 or body.get("code") == "InvalidAuthentication":
            raise TokenExpired
        if status != 200 or body.get("result") is not True:
            raise OaStartFailed(f"DingTalk refused to terminate: {_said(body)}", transient=False)
        return True

    async def _detail(self, token: str, instance: str) -> InstanceDetail:
        status, body = await self._call(
            "GET",
            "/v1.0/workflow/processInstances",
            headers={"x-acs-dingtalk-access-token": token},
            params={"processInstanceId": instance},
        )
        if status == 401 or body.get("code") == "InvalidAuthentication":
            raise TokenExpired
        result = body.get("result")
        if status != 200 or not isinstance(result, dict):
            raise OaStartFailed(f"DingTalk answered no instance: {_said(body)}", transient=False)
        steps = tuple(
            Step(
                str(r.get("userId", "")),
                DINGTALK_RESULT.get(str(r.get("result", "")).upper(), "pending"),
                str(r.get("remark") or ""),
                _iso(r.get("date")),
            )
            for r in _objects(result.get("operationRecords"))
            if r.get("type") in DINGTALK_DECIDING
        )
        return InstanceDetail(
            title=str(result.get("title", "")),
            applicant=str(result.get("originatorUserId", "")),
            form=_fields(result.get("formComponentValues"), "name", "value"),
            steps=steps,
            started_at=_iso(result.get("createTime")),
        )


# DingTalk operationRecords: the approvers' own actions, and what each result means.
DINGTALK_DECIDING = {"EXECUTE_TASK_NORMAL", "EXECUTE_TASK_AGENT", "REDIRECT_TASK"}
DINGTALK_RESULT: dict[str, StepDecision] = {
    "AGREE": "approved",
    "REFUSE": "rejected",
    "REDIRECTED": "redirected",
}
FEISHU_TOKEN_INVALID = {99991661, 99991663, 99991668}
FEISHU_RATE_LIMITED = 99991400
FEISHU_ALREADY_SUBSCRIBED = 1390007


class FeishuStarter(VendorStarter):
    def __init__(self, base: str, http: httpx.AsyncClient, app_id: str, app_secret: str) -> None:
        super().__init__(base, http)
        self._id, self._secret = app_id, app_secret
        self._subscribed: set[str] = set()

    async def _fetch_token(self) -> tuple[str, float]:
        _, body = await self._call(
            "POST",
            "/open-apis/auth/v3/tenant_access_token/internal",
            json={"app_id": self._id, "app_secret": self._secret},
        )
        if body.get("code") != 0 or not isinstance(body.get("tenant_access_token"), str):
            raise OaStartFailed(f"Feishu token refused: {_said(body)}", transient=False)
        return body["tenant_access_token"], float(body.get("expire", 7200))

    async def _create(self, token: str, form: StartForm) -> str:
        auth = {"Authorization": f"Bearer {token}"}
        if form.process_code not in self._subscribed:
            path = f"/open-apis/approval/v4/approvals/{quote(form.process_code, safe='')}/subscribe"
            _, body = await self._call("POST", path, headers=auth)
            self._check(body, "the subscription", ok={0, FEISHU_ALREADY_SUBSCRIBED})
            self._subscribed.add(form.process_code)
        widgets = [{"id": n, "type": "input", "value": v} for n, v in form.fields]
        _, body = await self._call(
            "POST",
            "/open-apis/approval/v4/instances",
            headers=auth,
            json={
                "approval_code": form.process_code,
                "user_id": form.originator,
                "form": json.dumps(widgets, ensure_ascii=False),
                "uuid": str(form.request_id),  # Feishu makes one instance per uuid
            },
        )
        self._check(body, "the instance", ok={0})
        data = body.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("instance_code"), str):
            raise OaStartFailed("Feishu answered no instance_code", transient=True)
        return str(data["instance_code"])

    async def _cancel(self, token: str, form: StartForm, instance: str, reason: str) -> bool:
        _, body = await self._call(
            "POST",
            "/open-apis/approval/v4/instances/cancel",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "approval_code": form.process_code,
                "instance_code": instance,
                "user_id": form.originator,
            },
        )
        self._check(body, "the cancellation", ok={0})
        return True

    async def _detail(self, token: str, instance: str) -> InstanceDetail:
        _, body = await self._call(
            "GET",
            f"/open-apis/approval/v4/instances/{quote(instance, safe='')}",
            headers={"Authorization": f"Bearer {token}"},
        )
        self._check(body, "the instance's details", ok={0})
        data = body.get("data")
        if not isinstance(data, dict):
            raise OaStartFailed("Feishu answered no instance data", transient=True)
        try:
            widgets = json.loads(str(data.get("form") or "[]"))
        except ValueError as error:
            raise OaStartFailed("Feishu's form is not JSON", transient=False) from error
        steps = tuple(
            Step(
                str(t.get("user_id", "")),
                FEISHU_TIMELINE[str(t.get("type"))],
                str(t.get("comment") or ""),
                _millis(t.get("create_time")),
            )
            for t in _objects(data.get("timeline"))
            if str(t.get("type")) in FEISHU_TIMELINE
        )
        return InstanceDetail(
            title=str(data.get("approval_name", "")),
            applicant=str(data.get("user_id", "")),
            form=_fields(widgets, "name", "value"),
            steps=steps,
            started_at=_millis(data.get("start_time")),
        )

    def _check(self, body: dict[str, Any], what: str, ok: set[int]) -> None:
        code = body.get("code")
        if code in ok:
            return
        if code in FEISHU_TOKEN_INVALID:
            raise TokenExpired
        transient = code == FEISHU_RATE_LIMITED
        raise OaStartFailed(f"Feishu refused {what}: {_said(body)}", transient=transient)


# Feishu timeline: the approvers' own actions, and what each means.
FEISHU_TIMELINE: dict[str, StepDecision] = {
    "PASS": "approved",
    "REJECT": "rejected",
    "TRANSFER": "redirected",
}
WECOM_TOKEN_INVALID = {40014, 42001}
WECOM_BUSY = -1


class WeComStarter(VendorStarter):
    def __init__(self, base: str, http: httpx.AsyncClient, corp_id: str, secret: str) -> None:
        super().__init__(base, http)
        self._corp, self._secret = corp_id, secret

    async def _fetch_token(self) -> tuple[str, float]:
        _, body = await self._call(
            "GET", "/cgi-bin/gettoken", params={"corpid": self._corp, "corpsecret": self._secret}
        )
        if body.get("errcode") != 0 or not isinstance(body.get("access_token"), str):
            raise OaStartFailed(f"WeCom token refused: {_said(body)}", transient=False)
        return body["access_token"], float(body.get("expires_in", 7200))

    async def _create(self, token: str, form: StartForm) -> str:
        contents = [{"control": "Text", "id": n, "value": {"text": v}} for n, v in form.fields]
        _, body = await self._call(
            "POST",
            "/cgi-bin/oa/applyevent",
            params={"access_token": token},
            json={
                "creator_userid": form.originator,
                "template_id": form.process_code,
                "use_template_approver": 1,
                "apply_data": {"contents": contents},
                "summary_list": [{"summary_info": [{"text": form.title, "lang": "zh_CN"}]}],
            },
        )
        code = body.get("errcode")
        if code in WECOM_TOKEN_INVALID:
            raise TokenExpired
        if code != 0 or not isinstance(body.get("sp_no"), str):
            transient = code == WECOM_BUSY
            raise OaStartFailed(
                f"WeCom refused the application: {_said(body)}", transient=transient
            )
        return str(body["sp_no"])

    async def _detail(self, token: str, instance: str) -> InstanceDetail:
        _, body = await self._call(
            "POST",
            "/cgi-bin/oa/getapprovaldetail",
            params={"access_token": token},
            json={"sp_no": instance},
        )
        code = body.get("errcode")
        if code in WECOM_TOKEN_INVALID:
            raise TokenExpired
        info = body.get("info")
        if code != 0 or not isinstance(info, dict):
            raise OaStartFailed(
                f"WeCom answered no details: {_said(body)}", transient=code == WECOM_BUSY
            )
        steps = tuple(
            Step(
                str((d.get("approver") or {}).get("userid", "")),
                WECOM_DETAIL_STATUS.get(_int(d.get("sp_status")) or 1, "pending"),
                str(d.get("speech") or ""),
                _seconds(d.get("sptime")),
            )
            for node in _objects(info.get("sp_record"))
            for d in _objects(node.get("details"))
        )
        contents = _objects((info.get("apply_data") or {}).get("contents"))
        return InstanceDetail(
            title=str(info.get("sp_name", "")),
            applicant=str((info.get("applyer") or {}).get("userid", "")),
            form=tuple((_wecom_title(c), _wecom_value(c.get("value"))) for c in contents),
            steps=steps,
            paid=_int(info.get("sp_status")) == WECOM_PAID,
            started_at=_seconds(info.get("apply_time")),
        )


# WeCom sp_record details: 1 审批中, 2 已同意, 3 已驳回, 4 已转审; the instance: 10 已支付.
WECOM_DETAIL_STATUS: dict[int, StepDecision] = {2: "approved", 3: "rejected", 4: "redirected"}
WECOM_PAID = 10


def _wecom_title(control: dict[str, Any]) -> str:
    titles = _objects(control.get("title"))
    chinese = [t for t in titles if t.get("lang") == "zh_CN"] or titles
    return str(chinese[0].get("text", "")) if chinese else str(control.get("id", ""))


def _wecom_value(value: object) -> str:
    """A WeCom control's value as the form shows it: text, number, amount, date or choices."""
    if not isinstance(value, dict):
        return ""
    if "text" in value:
        return str(value["text"])
    for name in ("new_money", "new_number"):
        if name in value:
            return str(value[name])
    if isinstance(value.get("date"), dict) and "s_timestamp" in value["date"]:
        at = _seconds(value["date"]["s_timestamp"])
        return at.isoformat() if at else ""
    if isinstance(value.get("selector"), dict):
        return "、".join(
            str(v.get("text", ""))
            for o in _objects(value["selector"].get("options"))
            for v in _objects(o.get("value"))
        )
    return json.dumps(value, ensure_ascii=False)[:500]


def _objects(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _fields(value: object, label: str, content: str) -> tuple[tuple[str, str], ...]:
    def shown(v: object) -> str:
        return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)

    return tuple((str(f.get(label, "")), shown(f.get(content, ""))) for f in _objects(value))


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _iso(value: object) -> datetime | None:
    """DingTalk's times: ISO 8601 in UTC, to the minute (``2021-05-25T10:04Z``)."""
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _millis(value: object) -> datetime | None:
    number = _int(value)
    return datetime.fromtimestamp(number / 1000, UTC) if number is not None else None


def _seconds(value: object) -> datetime | None:
    number = _int(value)
    return datetime.fromtimestamp(number, UTC) if number is not None else None


def _said(body: dict[str, Any]) -> str:
    """The vendor's own error code and message, as it answered them."""
    code = body.get("code", body.get("errcode"))
    message = body.get("message", body.get("msg", body.get("errmsg", "")))
    return f"{code} {str(message)[:200]}".strip()
