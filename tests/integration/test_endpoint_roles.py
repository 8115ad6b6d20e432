"""The endpoint table walked by role: for each endpoint a principal without the role it needs
is refused (403, or 404 where the scope rule answers as if the resource did not exist), and one
with the role gets past authorization to the endpoint's own answer. Real tokens of the local
Keycloak; the services in this process, asking the real permission service for roles.

Every token endpoint of the table is here or named in ``ANY_PRINCIPAL`` (any authenticated
caller, answered within their own scope) or ``BY_ID`` (a record fetched by id: out of scope it
answers 404 exactly as a record that does not exist, test_archive_records), so an endpoint
added without a rule fails this test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from archive.app import create_app as archive_app
from audit.app import create_app as audit_app
from contracts.endpoints import ENDPOINTS
from devkit.identity import ERP, as_user
from devkit.samples import sample_voucher
from devkit.testing import InProcessPermission, running
from ingest.app import create_app as ingest_app
from servicekit.settings import PlatformSettings

FONDS = "Q001"  # the local stack's sample fonds: zhaomin archivist, lijing accountant
FONDS_QUERY = {"fonds_code": FONDS, "fiscal_year": 2025}


@dataclass(frozen=True)
class Rule:
    refused: tuple[str, ...]  # principals without the role: 403 (or 404 where noted)
    allowed: str  # a principal with it
    kwargs: dict[str, Any] = field(default_factory=dict)  # the request (params, json, files)
    refused_status: int = 403


RULES: dict[tuple[str, str, str], Rule] = {
    ("ingest", "POST", "/v1/vouchers"): Rule(
        ("wangfang", "zhaomin", "sysadmin", "secadmin"),
        ERP,
        {"files": {"voucher": ("v.json", sample_voucher(fonds_code=FONDS))}},
    ),
    ("ingest", "POST", "/v1/journals"): Rule(
        ("wangfang", "auditor-all"),
        "lijing",
        {"data": {"fonds_code": FONDS, "profile": "x"}, "files": {"journal": ("j.csv", b"a,b\n")}},
    ),
    ("ingest", "POST", "/v1/packages"): Rule(
        ("wangfang", "secauditor"),
        ERP,
        {"files": {"package": ("p.zip", b"PK\x05\x06" + bytes(18))}},
    ),
    ("archive", "GET", "/v1/records"): Rule(
        ("outsider", "sysadmin"), "zhaomin", {"params": {"fonds_code": FONDS}}
    ),
    ("archive", "GET", "/v1/appraisal"): Rule(
        ("outsider", "secadmin"),
        "zhaomin",
        {"params": {"fonds_code": FONDS, "as_of": "2030-01-01"}},
    ),
    ("archive", "GET", "/v1/volumes"): Rule(
        ("outsider", "sysadmin"), "lijing", {"params": FONDS_QUERY}
    ),
    ("archive", "GET", "/v1/registers/{kind}.{fmt}"): Rule(
        ("outsider", "secauditor"), "zhaomin", {"params": FONDS_QUERY}
    ),
    ("archive", "GET", "/v1/numbering"): Rule(
        ("outsider", "sysadmin"), "auditor-all", {"params": {**FONDS_QUERY, "period": 3}}
    ),
    ("archive", "GET", "/v1/custody/overdue"): Rule(
        ("outsider", "secadmin"),
        "zhaomin",
        {"params": {"fonds_code": FONDS, "as_of": "2030-01-01"}},
    ),
    ("archive", "POST", "/v1/custody/extensions"): Rule(
        ("lijing", "auditor-all", "sysadmin"),
        "zhaomin",
        {"json": {**FONDS_QUERY, "fiscal_year": 1901, "extended_years": 1, "reason": "核对"}},
    ),
    ("archive", "POST", "/v1/handover-offers"): Rule(
        ("zhaomin", "auditor-all", "secadmin"),
        "lijing",
        {"json": {**FONDS_QUERY, "fiscal_year": 1901}},
    ),
    ("archive", "POST", "/v1/handovers"): Rule(
        ("lijing", "auditor-all"),  # an offer that does not exist: 404 to anyone
        "zhaomin",
        {"json": {"offer_id": str(uuid.uuid4())}},
        refused_status=404,
    ),
    ("permission", "GET", "/v1/check"): Rule(
        ("zhaomin", "secadmin", "client:aap-erp"),
        "client:aap-archive",
        {"params": {"user": "zhaomin", "action": "read", "resource": f"record:{uuid.uuid4()}"}},
    ),
    ("permission", "GET", "/v1/visibility"): Rule(
        ("zhaomin", "client:aap-erp"), "client:aap-audit", {"params": {"user": "zhaomin"}}
    ),
    ("permission", "GET", "/v1/roles/{user}"): Rule(
        ("lijing", "client:aap-erp"), "client:aap-ingest"
    ),
    ("permission", "GET", "/v1/role-assignments"): Rule(
        ("sysadmin", "secauditor", "zhaomin"), "secadmin"
    ),
    ("permission", "PUT", "/v1/role-assignments/{user}/{role}/{fonds_code}"): Rule(
        ("sysadmin", "secauditor", "zhaomin"), "secadmin"
    ),
    ("permission", "DELETE", "/v1/role-assignments/{user}/{role}/{fonds_code}"): Rule(
        ("sysadmin", "secauditor", "zhaomin"), "secadmin"
    ),
    ("permission", "POST", "/v1/grants/{grant_id}/withdrawal"): Rule(
        ("sysadmin", "secauditor", "wangfang"), "secadmin"
    ),
    ("audit", "GET", "/v1/entries"): Rule(
        ("zhaomin", "sysadmin", "secadmin", "wangfang"), "secauditor"
    ),
    ("audit", "GET", "/v1/export"): Rule(("zhaomin", "sysadmin", "secadmin"), "auditor-all"),
    ("audit", "GET", "/v1/verify"): Rule(("lijing", "sysadmin", "secadmin"), "secauditor"),
}
ANY_PRINCIPAL = {
    ("ingest", "GET", "/v1/journal-profiles"),
    ("approval", "POST", "/v1/borrowing-requests"),  # anyone borrows, as themself
    ("approval", "GET", "/v1/borrowing-requests/{request_id}"),  # the applicant's own (404)
    ("permission", "GET", "/v1/grants"),  # the caller's own
    *(
        (e.service, e.method, e.path)
        for e in ENDPOINTS
        if e.path in {"/asyncapi.json", "/openapi.json"}
    ),
}
BY_ID = {
    (e.service, e.method, e.path)
    for e in ENDPOINTS
    if e.service == "archive" and ("{record_id}" in e.path or e.path == "/v1/drill")
}
PATHS = {  # a role that reads no trail and uploads nothing, on a principal refused everywhere else
    "{user}": "outsider",
    "{role}": "accountant",
    "{fonds_code}": "Q777",
    "{grant_id}": str(uuid.uuid4()),
    "{kind}.{fmt}": "custody.csv",
}


def concrete(path: str) -> str:
    for placeholder, value in PATHS.items():
        path = path.replace(placeholder, value)
    return path


def test_every_endpoint_has_a_role_rule() -> None:
    needing = {(e.service, e.method, e.path) for e in ENDPOINTS if e.access == "token"}
    assert needing - ANY_PRINCIPAL - BY_ID == set(RULES)


@pytest.fixture(scope="module")
async def services(
    platform: PlatformSettings, permission: InProcessPermission
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    via = permission.transport
    async with (
        running(ingest_app(permission_transport=via)) as ingest,
        running(archive_app(permission_transport=via)) as archive,
        running(audit_app(permission_transport=via)) as audit,
    ):
        yield {"ingest": ingest, "archive": archive, "audit": audit, "permission": permission.http}


@pytest.mark.parametrize("endpoint", sorted(RULES), ids=lambda e: f"{e[0]} {e[1]} {e[2]}")
async def test_refused_without_the_role_and_past_authorization_with_it(
    services: dict[str, httpx.AsyncClient], endpoint: tuple[str, str, str]
) -> None:
    service, method, path = endpoint
    rule, http = RULES[endpoint], services[service]
    for who in rule.refused:
        r = await http.request(method, concrete(path), headers=as_user(who), **rule.kwargs)
        assert r.status_code == rule.refused_status, (who, r.text)
    r = await http.request(method, concrete(path), headers=as_user(rule.allowed), **rule.kwargs)
    # Past authorization, the endpoint answers the request itself: done, or what is wrong
    # with it (a journal profile that does not exist, an offer that does not), never a refusal
    # of the caller.
    assert r.status_code not in {401, 403}, (rule.allowed, r.text)
    assert r.status_code < 500, r.text
    if rule.refused_status == 404:
        assert r.status_code == 404  # the offer does not exist for anyone
