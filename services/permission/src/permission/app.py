"""Permission service: roles, grants, the check API and expiry."""

from __future__ import annotations

from fastapi import FastAPI

from contracts.events import AccessGranted, AccessRevoked
from permission.adapters.consumers import register_consumers
from permission.adapters.grants import Grants
from permission.adapters.http import permission_router
from permission.domain.access import RoleAssignment
from permission.service import PermissionService
from permission.settings import PermissionSettings
from servicekit.periodic import Periodic
from servicekit.service import build_app, build_runtime, serve

SERVICE = "permission"


def create_app(settings: PermissionSettings | None = None) -> FastAPI:
    settings = settings or PermissionSettings()
    rt = build_runtime(SERVICE, settings.platform, publishes=[AccessGranted, AccessRevoked])
    grants = Grants(rt.db)
    roles = [RoleAssignment(r.user, r.role, r.fonds_code) for r in settings.role_assignments]
    service = PermissionService(
        grants, roles, rt.processed_events(SERVICE), rt.publisher, rt.source
    )
    sweeper = Periodic(
        "revoke expired grants", service.revoke_expired, settings.sweep_seconds, first_at_start=True
    )
    rt.startup.append(grants.ensure_indexes)
    # The sweeper publishes, so it runs only while the broker is connected.
    rt.after_start.append(sweeper.start)
    rt.before_stop.append(sweeper.stop)
    register_consumers(rt, service)
    router = permission_router(service, settings.service_clients)
    return build_app(rt, title="AAP permission", routers=[router])


def main() -> None:
    settings = PermissionSettings()
    serve(create_app(settings), settings.http_host, settings.http_port)
