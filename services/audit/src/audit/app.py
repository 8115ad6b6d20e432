"""Audit service: the tamper-evident trail of every domain event."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from audit.adapters.consumers import register_consumers
from audit.adapters.http import audit_router
from audit.adapters.log_store import LogStore
from audit.service import AuditService
from audit.settings import AuditSettings
from servicekit.roles import RoleDirectory, follow_role_changes
from servicekit.service import build_app, build_runtime, serve

SERVICE = "audit"


def create_app(
    settings: AuditSettings | None = None,
    permission_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """``permission_transport`` lets a test reach an in-process permission service."""
    settings = settings or AuditSettings()
    rt = build_runtime(SERVICE, settings.platform)
    token = rt.service_token(settings.oidc_client_id, settings.oidc_client_secret)
    directory = RoleDirectory(settings.permission_url, token, permission_transport)
    rt.shutdown.append(directory.close)
    store = LogStore(rt.db)
    rt.startup.append(store.ensure_indexes)
    service = AuditService(store)
    register_consumers(rt, service)
    follow_role_changes(rt.broker, rt.platform, directory)
    return build_app(rt, title="AAP audit", routers=[audit_router(service, directory)])


def main() -> None:
    settings = AuditSettings()
    serve(create_app(settings), settings.http_host, settings.http_port)
