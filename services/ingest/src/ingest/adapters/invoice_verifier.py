"""查验 over HTTP, in the shape of 聚美智数 (jumdata)'s 发票查验 V2, a provider in front of the
tax platform (国家税务总局全国增值税发票查验平台 has no API of its own for a system to call).

What its published documentation says, and this adapter does (the pages are cited in
``docs/invoice-verification.md``):
- ``POST {AAP_INGEST_VERIFY_URL}`` (``https://api.jumdata.com/invoice/validate/v2``), form
  encoded: ``appId``, ``timestamp`` (ms), ``sign`` = hex SHA-256 of appId + appSecret +
  timestamp; ``fphm`` 发票号码, ``kprq`` 开票日期 YYYYMMDD, ``fpdm`` 发票代码 (older invoices
  only), ``jym`` 校验码后六位 (an older 普通发票's, where intake read its 校验码), ``je`` (for a
  数电票: 价税合计).
- The answer's ``code``: 200 found, 201 查无此票, 202 不一致; 203 (the day's five 查验 of one
  invoice used), 206 (being verified), 500, 502, 606, 609, 610 and the account's 601–607: ask
  again later; any other code is an answer the archivist reads (held for review, naming it).

Not confirmed from the pages reachable here: which field of a 200 answer's ``data`` carries the
invoice's state. This reads ``data.state`` (as another provider's published example names it)
in the tax platform's words (正常, 作废, 红冲…) or its usual codes (0 正常, 2 作废, 3/7/8 红冲);
anything else is "其他", held for review naming what was answered: never taken as 正常.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from contracts.records import InvoiceStatus
from ingest.ports import InvoiceQuery, VerifierUnavailable

AGAIN_LATER = frozenset({203, 206, 500, 502, 601, 602, 603, 604, 606, 607, 609, 610})
BY_CODE = {201: InvoiceStatus.NOT_FOUND, 202: InvoiceStatus.MISMATCH}
STATES = {
    "正常": InvoiceStatus.NORMAL,
    "0": InvoiceStatus.NORMAL,
    "作废": InvoiceStatus.VOIDED,
    "2": InvoiceStatus.VOIDED,
    "红冲": InvoiceStatus.REVERSED,
    "已红冲": InvoiceStatus.REVERSED,
    "全额红冲": InvoiceStatus.REVERSED,
    "部分红冲": InvoiceStatus.REVERSED,
    "3": InvoiceStatus.REVERSED,
    "7": InvoiceStatus.REVERSED,
    "8": InvoiceStatus.REVERSED,
}


def sign(app_id: str, app_secret: str, timestamp: str) -> str:
    return hashlib.sha256(f"{app_id}{app_secret}{timestamp}".encode()).hexdigest()


class HttpInvoiceVerifier:
    """The provider's endpoint, with the archive's own account there."""

    def __init__(
        self,
        url: str,
        app_id: str,
        app_secret: str,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url, self._app_id, self._secret = url, app_id, app_secret
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)

    @property
    def provider(self) -> str:
        return f"发票查验 V2 at {urlsplit(self._url).netloc}"

    async def close(self) -> None:
        await self._http.aclose()

    async def verify(self, query: InvoiceQuery) -> tuple[InvoiceStatus, str]:
        timestamp = str(int(time.time() * 1000))
        form = {
            "appId": self._app_id,
            "timestamp": timestamp,
            "sign": sign(self._app_id, self._secret, timestamp),
            "fphm": query.number,
            "kprq": query.issue_date.replace("-", ""),
            "je": f"{query.total:.2f}",
        }
        if query.code:
            form["fpdm"] = query.code
        if query.check_code:
            form["jym"] = query.check_code[-6:]
        try:
            r = await self._http.post(self._url, data=form)
            answer: dict[str, Any] = r.json()
            code = int(answer["code"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
            raise VerifierUnavailable(
                f"{self.provider}: {type(error).__name__}: {error}"
            ) from error
        message = str(answer.get("msg", ""))
        if code in AGAIN_LATER:
            raise VerifierUnavailable(f"{self.provider}: {code} {message}")
        if code in BY_CODE:
            return BY_CODE[code], f"{code} {message}"
        if code != 200:
            return InvoiceStatus.OTHER, f"{code} {message}"
        data = answer.get("data")
        state = str(data.get("state", "")) if isinstance(data, dict) else ""
        return STATES.get(state, InvoiceStatus.OTHER), f"{code} {message}; state {state or '—'}"
