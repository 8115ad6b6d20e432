"""Starting a borrowing request's approval in a vendor's OA (钉钉, 飞书, 企业微信) or an on-premise
OA by its configured REST call, with the form filled from the request; failures are kept on the
request and tried again with backoff."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta

import structlog

from approval.domain.borrowing import BorrowingRequest
from approval.ports import RecordTitles, RequestStore, StartStore
from approval.vendors.connection import VendorConnection
from approval.vendors.rest_start import RestStart
from approval.vendors.starters import OaStarter, OaStartFailed, StartForm
from contracts.borrowing import mode_rule
from contracts.types import utc_now

log = structlog.get_logger()
FIRST_RETRY_SECONDS = 30
LAST_RETRY_SECONDS = 3600


class NoOaUser(Exception):
    """The applicant has no user in the OA that decides: the OA cannot be asked for them."""


class VendorStarts:
    def __init__(
        self,
        requests: RequestStore,
        starts: StartStore,
        connections: Mapping[str, VendorConnection | RestStart],
        starters: Mapping[str, OaStarter],
        titles: RecordTitles,
    ) -> None:
        self._requests, self._starts = requests, starts
        self._connections, self._starters = connections, starters
        self._titles = titles

    def check(self, request: BorrowingRequest) -> None:
        config = self._connections.get(request.oa_connection)
        if config is not None and config.oa_user_of(request.applicant) is None:
            raise NoOaUser(
                f"{request.applicant} has no user in OA connection {request.oa_connection}: "
                "its administrator maps OA users to principals (AAP_APPROVAL_OA_VENDORS users)"
            )

    async def start(self, request: BorrowingRequest, attempts: int = 0) -> BorrowingRequest:
        config = self._connections.get(request.oa_connection)
        if config is None:
            return request  # an OA that reads its Kafka topic
        try:
            titles = await self._titles.titles(request.record_ids)
            form = _form(request, config, titles)
            instance = await self._starters[request.oa_connection].start(form)
        except OaStartFailed as failed:
            delay = min(FIRST_RETRY_SECONDS * 2**attempts, LAST_RETRY_SECONDS)
            retry_at = utc_now() + timedelta(seconds=delay)
            await self._starts.start_failed(request.request_id, str(failed), attempts + 1, retry_at)
            log.warning(
                "OA unreachable: the approval will be started again",
                request_id=str(request.request_id),
                reason=str(failed),
                retry_at=retry_at.isoformat(),
            )
            return replace(request, oa_unreachable=str(failed))
        await self._starts.started(request.request_id, request.oa_connection, instance)
        return replace(request, oa_instance_id=instance, oa_unreachable=None)

    async def cancel(self, request: BorrowingRequest, reason: str) -> None:
        config = self._connections.get(request.oa_connection)
        if config is None or request.oa_instance_id is None:
            return
        starter = self._starters[request.oa_connection]
        where = {"request_id": str(request.request_id), "oa_instance": request.oa_instance_id}
        try:
            form = _form(request, config, {})
            done = await starter.cancel(form, request.oa_instance_id, reason)
        except OaStartFailed as failed:
            # The request is expired here whatever the OA says: its approval grants nothing.
            log.warning("OA instance not withdrawn", reason=str(failed), **where)
            return
        log.info("OA instance withdrawn" if done else "the OA offers no withdrawal", **where)

    async def start_due(self) -> int:
        """Ask again every OA that could not be asked, when its time has come."""
        started = 0
        for request_id, attempts in await self._starts.starts_due(utc_now()):
            request = await self._requests.get(request_id)
            if request is not None and request.oa_instance_id is None:
                started += (await self.start(request, attempts)).oa_instance_id is not None
        return started


def _form(
    request: BorrowingRequest,
    config: VendorConnection | RestStart,
    titles: Mapping[uuid.UUID, str],
) -> StartForm:
    """The OA's form for the request: each record by its 档号 and 摘要 where the service has
    heard of it, by its id otherwise."""
    originator = config.oa_user_of(request.applicant)
    assert originator is not None, "checked when the request was filed"
    mode = mode_rule(request.mode).label
    values = {
        "reason": request.reason,
        "days": str(request.days),
        "mode": mode,
        "records": "\n".join(titles.get(r, str(r)) for r in request.record_ids),
        "fonds": request.fonds_code,
    }
    return StartForm(
        request_id=request.request_id,
        originator=originator,
        process_code=config.process_for("borrowing"),
        title=f"档案借阅 {request.fonds_code} {len(request.record_ids)} 件 "
        f"{request.days} 天 {mode}",
        fields=tuple((config.form[k], v) for k, v in values.items() if k in config.form),
        applicant=request.applicant,
    )
