"""A stand-in for a 查验 provider (发票查验 V2, as 聚美智数 documents it), served on loopback for
the tests and the demo: the provider and the tax platform behind it cannot be reached from here.

It checks what the documentation says the provider checks (the account, the signature
``sha256(appId + appSecret + timestamp)``, the fields asked) and answers from the invoices it
is told about: their state (正常, 作废, 红冲…), 查无此票 for one it does not know, 不一致 when the
amount asked is not the invoice's. ``down`` makes it answer as the provider does when the tax
platform does not (502), so that the archive asks again later. It keeps what it was asked.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Request

from devkit.secretfile import kept

TAX_STANDIN_PORT = 8110
TAX_STANDIN_URL = f"http://127.0.0.1:{TAX_STANDIN_PORT}/invoice/validate/v2"
APP_ID = "aap-local-archive"
FRESH_MS = 5 * 60 * 1000  # a signed request older than this is refused


def app_secret() -> str:
    """This checkout's account secret at the stand-in (``.local/secrets/tax-standin.json``)."""
    return kept("tax-standin", lambda: {"app_secret": secrets.token_urlsafe(24)})["app_secret"]


def verifier_env() -> dict[str, str]:
    """What points ingest's 查验 at the stand-in."""
    return {
        "AAP_INGEST_VERIFY_URL": TAX_STANDIN_URL,
        "AAP_INGEST_VERIFY_APP_ID": APP_ID,
        "AAP_INGEST_VERIFY_APP_SECRET": app_secret(),
    }


@dataclass
class Invoice:
    total: Decimal  # 价税合计, what a 数电票 is asked by
    state: str = "正常"
    check_code: str | None = None  # an older 普通发票's 校验码: asked by its last six (jym)


@dataclass
class TaxPlatformStandIn:
    invoices: dict[str, Invoice] = field(default_factory=dict)  # by 发票号码
    down: bool = False
    asked: list[dict[str, str]] = field(default_factory=list)

    def knows(
        self, number: str, total: Decimal | str, state: str = "正常", check_code: str | None = None
    ) -> None:
        self.invoices[number] = Invoice(Decimal(str(total)), state, check_code)

    def app(self) -> FastAPI:
        app = FastAPI(title="查验 provider stand-in")
        secret = app_secret()

        @app.post("/invoice/validate/v2")
        async def validate(request: Request) -> dict[str, Any]:
            form = {k: str(v) for k, v in (await request.form()).items()}
            self.asked.append(form)
            answer = {"taskNo": uuid.uuid4().hex[:20], "charge": False}
            timestamp = form.get("timestamp", "")
            expected = hashlib.sha256(f"{APP_ID}{secret}{timestamp}".encode()).hexdigest()
            if form.get("appId") != APP_ID or not secrets.compare_digest(
                form.get("sign", ""), expected
            ):
                return {**answer, "code": 400, "msg": "签名错误"}
            if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > FRESH_MS:
                return {**answer, "code": 400, "msg": "时间戳无效"}
            if not form.get("fphm") or not form.get("kprq"):
                return {**answer, "code": 400, "msg": "参数错误"}
            if self.down:
                return {**answer, "code": 502, "msg": "网络故障,请稍候再试"}
            invoice = self.invoices.get(form["fphm"])
            if invoice is None:
                return {**answer, "code": 201, "msg": "查无此票", "charge": True}
            if invoice.check_code and not form.get("jym"):
                return {**answer, "code": 400, "msg": "校验码后六位不能为空"}
            if invoice.check_code and form["jym"] != invoice.check_code[-6:]:
                return {**answer, "code": 202, "msg": "不一致", "charge": True}
            if Decimal(form.get("je") or "0") != invoice.total:
                return {**answer, "code": 202, "msg": "不一致", "charge": True}
            data = {"fphm": form["fphm"], "kprq": form["kprq"], "jshj": str(invoice.total)}
            return {**answer, "code": 200, "msg": "成功", "charge": True,
                    "data": {**data, "state": invoice.state}}  # fmt: skip

        return app
