"""Permission service: roles, grants, the check API and expiry."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI

from contracts.envelope import EventData
from contracts.events import AccessGranted, AccessRevoked, RoleAssigned, RoleRevoked
from permission.adapters.consumers import register_consumers
from permission.adapters.grants import Grants
from permission.adapters.http import permission_router
from permission.adapters.roles import CachedRoles, Holders
from permission.domain.access import ChangeRefused, RoleAssignment
from permission.service import (
    AlreadyEnded,
    NotFound,
    NotPermitted,
    PermissionService,
)
from permission.settings import PermissionSettings, read_seed
from servicekit.periodic import Periodic
from servicekit.roles import follow_role_changes
from servicekit.service import build_app, build_runtime, serve

SERVICE = "permission"
PUBLISHES: list[type[EventData]] = [AccessGranted, AccessRevoked, RoleAssigned, RoleRevoked]


def create_app(
    settings: PermissionSettings | None = None, seed: Sequence[RoleAssignment] | None = None
) -> FastAPI:
    """``seed``, else the settings' seed file, bootstraps an empty role store."""
    settings = settings or PermissionSettings()
    rt = build_runtime(SERVICE, settings.platform, publishes=PUBLISHES)
    grants, roles = Grants(rt.db), CachedRoles(rt.db, rt.tokens.settings.issuer)
    service = PermissionService(
        grants, roles, rt.processed_events(SERVICE), rt.publisher, rt.unit_of_work(), rt.source
    )
    seeded = list(seed) if seed is not None else read_seed(settings.role_seed_file)

    sweeper = Periodic(
        "revoke expired grants",
        service.revoke_expired,
        settings.sweep_seconds,
        first_at_start=True,
    )

    async def bootstrap() -> None:
        await service.seed(seeded)

    rt.startup.append(bootstrap)
    rt.after_start.append(sweeper.start)
    rt.before_stop.append(sweeper.stop)
    register_consumers(rt, service)
    follow_role_changes(rt.broker, rt.platform, roles)  # other replicas' changes
    router = permission_router(service, settings.service_clients)
    errors = {NotPermitted: 403, NotFound: 404, ChangeRefused: 409, AlreadyEnded: 409}
    return build_app(
        rt, title="AAP permission", routers=[router], errors=errors, roles=Holders(roles)
    )


def main() -> None:
    settings = PermissionSettings()
    serve(create_app(settings), settings.http_host, settings.http_port)
