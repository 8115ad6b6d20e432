"""The endpoint table walked against the services as built: every route is in the table, and
every route that needs a token refuses a request without one, with only the old ``X-User``
header, or with a token the platform's identity provider did not sign (the local Keycloak's
keys are fetched for real)."""

from __future__ import annotations

import importlib
import uuid

import httpx
import pytest
from fastapi import FastAPI

from contracts.endpoints import ENDPOINTS
from devkit.identity import forged_token
from devkit.stack import SERVICES
from servicekit.settings import PlatformSettings

SAMPLE_PATH = {
    "{record_id}": str(uuid.uuid4()),
    "{request_id}": str(uuid.uuid4()),
    "{sha256}": "0" * 64,
    "{user}": "zhaomin",
    "{kind}.{fmt}": "custody.xlsx",
}


def app_of(service: str) -> FastAPI:
    app: FastAPI = importlib.import_module(f"{service}.app").create_app()
    return app


def routes(app: FastAPI) -> set[tuple[str, str]]:
    """What the service serves, as its OpenAPI document lists it (all but /openapi.json)."""
    paths: dict[str, dict[str, object]] = app.openapi()["paths"]
    return {(method.upper(), path) for path, operations in paths.items() for method in operations}


def concrete(path: str) -> str:
    for placeholder, value in SAMPLE_PATH.items():
        path = path.replace(placeholder, value)
    return path


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_is_in_the_endpoint_table(platform: PlatformSettings, service: str) -> None:
    table = {
        (e.method, e.path) for e in ENDPOINTS if e.service == service and e.path != "/openapi.json"
    }
    assert routes(app_of(service)) == table


@pytest.mark.parametrize("service", SERVICES)
async def test_every_route_but_the_open_ones_refuses_a_caller_without_a_valid_token(
    platform: PlatformSettings, service: str
) -> None:
    app = app_of(service)  # no lifespan: the token check comes before anything else is asked
    forged = {"Authorization": f"Bearer {forged_token('auditor-all')}"}
    attempts = {"no token": {}, "X-User only": {"X-User": "auditor-all"}, "forged": forged}
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:
        for e in ENDPOINTS:
            if e.service != service or e.access != "token":
                continue
            for tried, headers in attempts.items():
                r = await http.request(e.method, concrete(e.path), headers=headers)
                assert r.status_code == 401, (e.method, e.path, tried, r.text)
                assert r.headers["WWW-Authenticate"].startswith("Bearer")
