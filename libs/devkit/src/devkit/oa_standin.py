"""A stand-in for the OA vendors' APIs (钉钉 DingTalk, 飞书 Feishu, 企业微信 WeCom), served on
loopback for tests and the demo: the SaaS endpoints cannot be reached from here.

It implements each vendor's documented token and create-instance endpoints, their answers and
their error answers (an invalid or expired token, an outage), and keeps what it was asked.
It is not the vendor: what it checks is what the documentation says the vendor checks.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
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


@dataclass
class StandInVendors:
    """Each vendor's app credentials as the customer's console shows them."""

    dingtalk_app: tuple[str, str] = ("ding-app-key", "ding-app-secret")
    feishu_app: tuple[str, str] = ("cli_standin", "feishu-app-secret")
    wecom_corp: tuple[str, str] = ("wwstandin", "wecom-app-secret")
    started: list[Started] = field(default_factory=list)
    subscribed: set[str] = field(default_factory=set)
    terminated: list[str] = field(default_factory=list)  # instances withdrawn through the API
    tokens_issued: int = 0
    outage: int = 0  # the next this many calls answer 503
    _tokens: set[str] = field(default_factory=set)

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


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """``app`` served over HTTP on a loopback port: its base URL."""
    port = free_port()
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
