"""A stand-in for the OA vendors' APIs (钉钉 DingTalk, 飞书 Feishu, 企业微信 WeCom), served on
loopback for tests and the demo: the SaaS endpoints cannot be reached from here.

It implements each vendor's documented token, create-instance and instance-detail endpoints,
their answers and their error answers (an invalid or expired token, an outage), and keeps what
it was asked. It is not the vendor: what it checks is what the documentation says the vendor checks.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from devkit.testing import free_port


@dataclass
class Started:
    vendor: str
    instance_id: str
    body: dict[str, Any]


@dataclass(frozen=True)
class HeldStep:
    """An approver's action as the OA keeps it: decision approved, rejected or redirected."""

    user: str
    decision: str
    comment: str
    at: datetime


@dataclass(frozen=True)
class Held:
    """An approval the OA holds, finished (an expense claim, say): what its detail call shows."""

    vendor: str
    process_code: str
    title: str
    applicant: str
    form: tuple[tuple[str, str], ...]
    steps: tuple[HeldStep, ...]
    started_at: datetime
    paid: bool = False


@dataclass
class StandInVendors:
    """Each vendor's app credentials as the customer's console shows them."""

    dingtalk_app: tuple[str, str] = ("ding-app-key", "ding-app-secret")
    feishu_app: tuple[str, str] = ("cli_standin", "feishu-app-secret")
    wecom_corp: tuple[str, str] = ("wwstandin", "wecom-app-secret")
    # 泛微 e-cology: the token of the archive's integration, made at random per stand-in.
    weaver_token: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    started: list[Started] = field(default_factory=list)
    subscribed: set[str] = field(default_factory=set)
    terminated: list[str] = field(default_factory=list)  # instances withdrawn through the API
    held: dict[str, Held] = field(default_factory=dict)  # instance id → a finished approval
    tokens_issued: int = 0
    outage: int = 0  # the next this many calls answer 503
    _tokens: set[str] = field(default_factory=set)

    def hold(self, approval: Held) -> str:
        """An approval finished in the vendor's OA: its instance id."""
        instance = f"{approval.vendor}-{uuid.uuid4().hex[:12]}"
        self.held[instance] = approval
        return instance

    def expire_tokens(self) -> None:
        """Every token issued so far is expired, as the vendor's would be after two hours."""
        self._tokens.clear()

    def _token(self) -> str:
        token = secrets.token_hex(16)
        self._tokens.add(token)
        self.tokens_issued += 1
        return token

    def _unavailable(self) -> JSONResponse | None:
        if self.outage > 0:
            self.outage -= 1
            return JSONResponse({"message": "service unavailable"}, status_code=503)
        return None

    def app(self) -> FastAPI:
        app = FastAPI(title="stand-in for the OA vendors' APIs")

        @app.middleware("http")
        async def outage(request: Request, call_next: Any) -> Any:
            return self._unavailable() or await call_next(request)

        # --- 钉钉 DingTalk ----------------------------------------------------------------
        def dingtalk_denied(request: Request) -> JSONResponse | None:
            if request.headers.get("x-acs-dingtalk-access-token") not in self._tokens:
                return JSONResponse(
                    {"code": "InvalidAuthentication", "message": "不合法的access_token"},
                    status_code=401,
                )
            return None

        @app.post("/v1.0/oauth2/accessToken")
        async def dingtalk_token(body: dict[str, Any]) -> JSONResponse:
            if (body.get("appKey"), body.get("appSecret")) != self.dingtalk_app:
                return JSONResponse(
                    {
                        "code": "invalidClientIdOrSecret",
                        "message": "无效的clientId或者clientSecret",
                    },
                    status_code=400,
                )
            return JSONResponse({"accessToken": self._token(), "expireIn": 7200})

        @app.post("/v1.0/workflow/processInstances")
        async def dingtalk_create(request: Request, body: dict[str, Any]) -> JSONResponse:
            if denied := dingtalk_denied(request):
                return denied
            if not body.get("originatorUserId") or not body.get("processCode"):
                return JSONResponse(
                    {"code": "MissingParameter", "message": "originatorUserId, processCode"},
                    status_code=400,
                )
            return JSONResponse({"instanceId": self._started("dingtalk", body)})

        @app.get("/v1.0/workflow/processInstances")
        async def dingtalk_detail(request: Request, processInstanceId: str = "") -> JSONResponse:
            if denied := dingtalk_denied(request):
                return denied
            held = self.held.get(processInstanceId)
            if held is None or held.vendor != "dingtalk":
                return JSONResponse({"code": "notFound", "message": "实例不存在"}, status_code=400)
            result = {"AGREE": "approved", "REFUSE": "rejected", "REDIRECTED": "redirected"}
            by_decision = {v: k for k, v in result.items()}
            records = [
                {"userId": held.applicant, "date": _minute(held.started_at),
                 "type": "START_PROCESS_INSTANCE", "result": "NONE"},
                *({"userId": s.user, "date": _minute(s.at), "type": "EXECUTE_TASK_NORMAL",
                   "result": by_decision[s.decision], "remark": s.comment} for s in held.steps),
            ]  # fmt: skip
            return JSONResponse(
                {
                    "success": True,
                    "result": {
                        "title": held.title,
                        "originatorUserId": held.applicant,
                        "createTime": _minute(held.started_at),
                        "status": "COMPLETED",
                        "result": "agree",
                        "formComponentValues": [
                            {"name": n, "value": v, "componentType": "TextField"}
                            for n, v in held.form
                        ],
                        "operationRecords": records,
                    },
                }
            )

        @app.post("/v1.0/workflow/processInstances/terminate")
        async def dingtalk_terminate(request: Request, body: dict[str, Any]) -> JSONResponse:
            if denied := dingtalk_denied(request):
                return denied
            return self._terminate("dingtalk", str(body.get("processInstanceId")), {"result": True})

        # --- 飞书 Feishu ------------------------------------------------------------------
        @app.post("/open-apis/auth/v3/tenant_access_token/internal")
        async def feishu_token(body: dict[str, Any]) -> JSONResponse:
            if (body.get("app_id"), body.get("app_secret")) != self.feishu_app:
                return JSONResponse({"code": 10014, "msg": "app secret invalid"})
            return JSONResponse(
                {"code": 0, "msg": "ok", "tenant_access_token": self._token(), "expire": 7200}
            )

        def feishu_denied(request: Request) -> JSONResponse | None:
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            if token not in self._tokens:
                return JSONResponse(
                    {"code": 99991663, "msg": "Invalid access token for authorization."},
                    status_code=400,
                )
            return None

        @app.post("/open-apis/approval/v4/approvals/{approval_code}/subscribe")
        async def feishu_subscribe(approval_code: str, request: Request) -> JSONResponse:
            if denied := feishu_denied(request):
                return denied
            if approval_code in self.subscribed:
                return JSONResponse({"code": 1390007, "msg": "subscription existed"})
            self.subscribed.add(approval_code)
            return JSONResponse({"code": 0, "msg": "success", "data": {}})

        @app.post("/open-apis/approval/v4/instances")
        async def feishu_create(request: Request, body: dict[str, Any]) -> JSONResponse:
            if denied := feishu_denied(request):
                return denied
            # One instance per uuid: a create sent twice makes one approval.
            for s in self.started:
                if s.vendor == "feishu" and s.body.get("uuid") == body.get("uuid"):
                    return JSONResponse({"code": 0, "data": {"instance_code": s.instance_id}})
            return JSONResponse(
                {
                    "code": 0,
                    "msg": "success",
                    "data": {"instance_code": self._started("feishu", body)},
                }
            )

        @app.get("/open-apis/approval/v4/instances/{instance}")
        async def feishu_detail(instance: str, request: Request) -> JSONResponse:
            if denied := feishu_denied(request):
                return denied
            held = self.held.get(instance)
            if held is None or held.vendor != "feishu":
                return JSONResponse({"code": 1390001, "msg": "instance not found"})
            types = {"approved": "PASS", "rejected": "REJECT", "redirected": "TRANSFER"}
            widgets = [{"id": f"widget{n}", "name": k, "type": "input", "value": v}
                       for n, (k, v) in enumerate(held.form)]  # fmt: skip
            timeline = [
                {"type": "START", "user_id": held.applicant, "create_time": _ms(held.started_at)},
                *({"type": types[s.decision], "user_id": s.user, "create_time": _ms(s.at),
                   "comment": s.comment} for s in held.steps),
            ]  # fmt: skip
            return JSONResponse(
                {
                    "code": 0,
                    "msg": "success",
                    "data": {
                        "approval_code": held.process_code,
                        "approval_name": held.title,
                        "instance_code": instance,
                        "user_id": held.applicant,
                        "start_time": _ms(held.started_at),
                        "status": "APPROVED",
                        "form": json.dumps(widgets, ensure_ascii=False),
                        "timeline": timeline,
                    },
                }
            )

        @app.post("/open-apis/approval/v4/instances/cancel")
        async def feishu_cancel(request: Request, body: dict[str, Any]) -> JSONResponse:
            if denied := feishu_denied(request):
                return denied
            return self._terminate("feishu", str(body.get("instance_code")), {"code": 0})

        # --- 企业微信 WeCom ---------------------------------------------------------------
        @app.get("/cgi-bin/gettoken")
        async def wecom_token(corpid: str = "", corpsecret: str = "") -> JSONResponse:
            if (corpid, corpsecret) != self.wecom_corp:
                return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
            return JSONResponse(
                {"errcode": 0, "errmsg": "ok", "access_token": self._token(), "expires_in": 7200}
            )

        @app.post("/cgi-bin/oa/applyevent")
        async def wecom_create(body: dict[str, Any], access_token: str = "") -> JSONResponse:
            if access_token not in self._tokens:
                return JSONResponse({"errcode": 42001, "errmsg": "access_token expired"})
            if not body.get("creator_userid") or not body.get("template_id"):
                return JSONResponse({"errcode": 301025, "errmsg": "get approval param error"})
            return JSONResponse(
                {"errcode": 0, "errmsg": "ok", "sp_no": self._started("wecom", body)}
            )

        # --- 泛微 e-cology (on-premise): a REST call from our side, its token in a header -----
        @app.post("/api/workflow/paService/doCreateRequest")
        async def weaver_create(request: Request, body: dict[str, Any]) -> JSONResponse:
            if request.headers.get("token") != self.weaver_token:
                return JSONResponse({"code": "NO_PERMISSION", "errMsg": {"msg": "token无效"}})
            if not body.get("workflowId") or not isinstance(body.get("mainData"), list):
                return JSONResponse({"code": "PARAM_ERROR", "errMsg": {"msg": "workflowId"}})
            requestid = 100000 + secrets.randbelow(900000)  # e-cology's ids are numbers
            self.started.append(Started("weaver", str(requestid), body))
            return JSONResponse({"code": "SUCCESS", "data": {"requestid": requestid}})

        @app.post("/cgi-bin/oa/getapprovaldetail")
        async def wecom_detail(body: dict[str, Any], access_token: str = "") -> JSONResponse:
            if access_token not in self._tokens:
                return JSONResponse({"errcode": 42001, "errmsg": "access_token expired"})
            held = self.held.get(str(body.get("sp_no")))
            if held is None or held.vendor != "wecom":
                return JSONResponse({"errcode": 301055, "errmsg": "no approval found"})
            status = {"approved": 2, "rejected": 3, "redirected": 4}
            records = [
                {"sp_status": status[s.decision], "approverattr": 1, "details": [
                    {"approver": {"userid": s.user}, "speech": s.comment,
                     "sp_status": status[s.decision], "sptime": int(s.at.timestamp()),
                     "media_id": []}]}
                for s in held.steps
            ]  # fmt: skip
            contents = [
                {"control": "Text", "id": f"Text-{n}", "title": [{"text": k, "lang": "zh_CN"}],
                 "value": {"text": v}}
                for n, (k, v) in enumerate(held.form)
            ]  # fmt: skip
            return JSONResponse(
                {
                    "errcode": 0,
                    "errmsg": "ok",
                    "info": {
                        "sp_no": body["sp_no"],
                        "sp_name": held.title,
                        "sp_status": 10 if held.paid else 2,
                        "template_id": held.process_code,
                        "apply_time": int(held.started_at.timestamp()),
                        "applyer": {"userid": held.applicant, "partyid": "1"},
                        "sp_record": records,
                        "apply_data": {"contents": contents},
                    },
                }
            )

        return app

    def _terminate(self, vendor: str, instance: str, ok: dict[str, Any]) -> JSONResponse:
        if not any(s.vendor == vendor and s.instance_id == instance for s in self.started):
            return JSONResponse({"code": "notFound", "msg": "实例不存在"}, status_code=400)
        self.terminated.append(instance)
        return JSONResponse(ok)

    def _started(self, vendor: str, body: dict[str, Any]) -> str:
        instance = f"{vendor}-{uuid.uuid4().hex[:12]}"
        self.started.append(Started(vendor, instance, body))
        return instance


def _minute(at: datetime) -> str:
    """DingTalk's time format: UTC, to the minute."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def _ms(at: datetime) -> str:
    return str(int(at.timestamp() * 1000))


@asynccontextmanager
async def serving(app: FastAPI, port: int | None = None) -> AsyncIterator[str]:
    """``app`` served over HTTP on a loopback port (a free one unless given): its base URL."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # it failed to start: say why
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
