"""Approval service: the OA side of borrowing."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from approval.adapters.consumers import register_consumers
from approval.adapters.http import approval_router, oa_callback_router, vendor_callback_router
from approval.adapters.record_titles import RecordTitles
from approval.adapters.requests import Nonces, Requests
from approval.domain.borrowing import SelfApproval, UnmappedApprover
from approval.domain.oa_states import UnknownState
from approval.domain.routing import OaRoutes
from approval.expense_approvals import ExpenseApprovals, NoExpenseFiling
from approval.service import ApprovalService
from approval.settings import ApprovalSettings
from approval.vendor_callbacks import UnknownConnection, VendorCallbacks
from approval.vendor_starts import VendorStarts
from approval.vendors.refusals import CallbackRefused
from approval.vendors.rest_start import RestStarter
from approval.vendors.starters import OaStartFailed
from contracts.events import ApprovalDecided, OaApprovalCompleted
from contracts.topics import OaConnection
from servicekit.periodic import Periodic
from servicekit.roles import RoleDirectory
from servicekit.service import build_app, build_runtime, serve

SERVICE = "approval"


def create_app(
    settings: ApprovalSettings | None = None,
    permission_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """``permission_transport`` lets a test reach an in-process permission service."""
    settings = settings or ApprovalSettings()
    connections = [OaConnection(c) for c in settings.platform.oa_connections]
    rt = build_runtime(
        SERVICE,
        settings.platform,
        publishes=[ApprovalDecided, OaApprovalCompleted],
        routed=[c.requests for c in connections],  # each OA connection reads its own
    )
    requests = Requests(rt.db)
    # The vendors' APIs: a slow vendor makes a request wait at most this long, then retried.
    vendor_http = httpx.AsyncClient(timeout=httpx.Timeout(5.0))
    rt.shutdown.append(vendor_http.aclose)
    apis = {name: c.starter(vendor_http) for name, c in settings.oa_vendors.items()}
    titles = RecordTitles(rt.db)
    rest = {name: RestStarter(c, vendor_http) for name, c in settings.oa_rest_starts.items()}
    starts = VendorStarts(
        requests,
        requests,
        {**settings.oa_vendors, **settings.oa_rest_starts},
        {**apis, **rest},
        titles,
    )
    profiles = settings.profiles()  # read from their files once
    service = ApprovalService(
        requests,
        Nonces(rt.db),
        rt.processed_events(SERVICE),
        rt.publisher,
        rt.unit_of_work(),
        settings.callback_keys(),
        OaRoutes(settings.oa_routes),
        rt.source,
        titles,
        starter=starts,
        profiles={c: profiles[name] for c, name in settings.oa_profiles.items()},
        decide_within=timedelta(days=settings.oa_decide_within_days),
        users=settings.oa_users,
    )

    async def chores() -> None:
        await starts.start_due()
        await service.expire_overdue()

    # It publishes expiries, so it runs only while the broker is connected.
    sweeper = Periodic(
        "start OA approvals again, expire undecided requests",
        chores,
        settings.oa_sweep_seconds,
        first_at_start=True,
    )
    rt.after_start.append(sweeper.start)
    rt.before_stop.append(sweeper.stop)
    expenses = ExpenseApprovals(rt.publisher, apis, rt.source, settings.oa_expense_filings)
    vendors = VendorCallbacks(service, requests, settings.oa_vendors, expenses)
    register_consumers(rt, service, titles)
    token = rt.service_token(settings.oidc_client_id, settings.oidc_client_secret)
    directory = RoleDirectory(settings.permission_url, token, permission_transport)
    rt.shutdown.append(directory.close)
    return build_app(
        rt,
        title="AAP approval",
        routers=[approval_router(service)],
        signed_routers=[
            oa_callback_router(service, expenses),
            vendor_callback_router(vendors),
        ],
        errors={
            CallbackRefused: 401,
            UnknownConnection: 404,
            UnmappedApprover: 403,
            SelfApproval: 403,
            UnknownState: 422,
            OaStartFailed: 503,
            NoExpenseFiling: 422,
        },
        roles=directory,
    )


def main() -> None:
    settings = ApprovalSettings()
    serve(create_app(settings), settings.http_host, settings.http_port)
