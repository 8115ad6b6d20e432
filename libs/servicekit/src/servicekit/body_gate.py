"""The caller proven before a request's body is read.

FastAPI parses a form (a multipart upload) before it resolves the dependencies that check the
caller, and Starlette spools every part over 1 MiB to disk: without this gate a caller with no
token made a service read, and write to its ``/tmp``, 60 MiB before hearing 401. Here, as ASGI
middleware in front of the routes, a request that carries a body to a route behind the token is
answered at once, before its first body byte is read, and its connection closed: 401 if its
token proves nobody, 403 if the route admits only some principals (``Admission``) and the caller
is not one of them. The routes' own dependencies check the same again, from caches.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from servicekit.auth import Principal, principal_of
from servicekit.failures import is_transient, nothing_done

# Raises HTTPException (403) for a principal the route does not admit.
Admission = Callable[[Principal], Awaitable[None]]
BODILESS = {"GET", "HEAD", "OPTIONS", "DELETE"}


class TokenBeforeBody:
    def __init__(
        self,
        app: ASGIApp,
        open_paths: Iterable[re.Pattern[str]],
        admissions: Mapping[str, Admission],
    ) -> None:
        """``open_paths``: the routes that prove their caller otherwise (signed callbacks) or
        not at all (health); ``admissions``: by path, who a route admits."""
        self.app, self._open, self._admissions = app, tuple(open_paths), admissions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in BODILESS
            or any(p.match(scope["path"]) for p in self._open)
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope)  # its headers only: nothing is received here
        try:
            principal = await principal_of(request)
            if admit := self._admissions.get(scope["path"]):
                await admit(principal)
        except HTTPException as refusal:
            await _answer(
                scope, receive, send, refusal.status_code, refusal.detail, refusal.headers
            )
            return
        except Exception as error:
            if not is_transient(error):
                raise
            await _answer(scope, receive, send, 503, nothing_done(error), {"Retry-After": "5"})
            return
        await self.app(scope, receive, send)


async def _answer(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    detail: object,
    headers: Mapping[str, str] | None,
) -> None:
    """The refusal, and the connection closed after it: the body the caller goes on sending is
    never read."""
    closing = {**(headers or {}), "Connection": "close"}
    await JSONResponse({"detail": detail}, status_code=status, headers=closing)(
        scope, receive, send
    )
