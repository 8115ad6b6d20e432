"""The endpoint table walked by role: for each endpoint a principal without the role it needs
is refused (403, or 404 where the scope rule answers as if the resource did not exist), and one
with the role gets past authorization to the endpoint's own answer. Real tokens of the local
Keycloak; the services in this process, asking the real permission service for roles.

A record of the sample fonds is archived first, so that the endpoints on a record by id are
walked too: out of the caller's scope they answer 404 exactly as a record that does not exist;
a caller who sees the record but lacks the right is refused with 403. Every token endpoint of
the table is here or named in ``ANY_PRINCIPAL`` (any authenticated caller, answered within their
own scope), so an endpoint added without a rule fails this test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from approval.app import create_app as approval_app
from archive.app import create_app as archive_app
from audit.app import create_app as audit_app
from contracts.endpoints import ENDPOINTS
from contracts.envelope import new_event
from contracts.events import RecordArchived
from contracts.topics import RECORDS_ARCHIVED, source_of
from devkit.identity import ERP, as_user, subject_of
from devkit.samples import (
    PDF,
    ingested_document,
    sample_material,
    sample_voucher,
    store_files,
    unique_pdf,
    voucher_summary,
)
from devkit.send import EventSender
from devkit.testing import InProcessPermission, running
from devkit.watch import EventWatcher, consumed, of_type
from ingest.app import create_app as ingest_app
from servicekit import s3
from servicekit.settings import PlatformSettings

FONDS = "Q001"  # the local stack's sample fonds: zhaomin archivist, lijing accountant
FONDS_QUERY = {"fonds_code": FONDS, "fiscal_year": 2025}
ZHAOMIN = {"user": "zhaomin", "subject": subject_of("zhaomin")}  # as the services name a person


@dataclass(frozen=True)
class Rule:
    refused: tuple[str, ...]  # principals without the role: 403 (or 404 where noted)
    allowed: str  # a principal with it
    kwargs: dict[str, Any] = field(default_factory=dict)  # the request (params, json, files)
    refused_status: int = 403
    seeing: tuple[str, ...] = ()  # principals who see the record but lack the right: 403


OUT_OF_SCOPE = ("outsider", "sysadmin", "secauditor")  # a record by id: 404, as if absent
RECORD_RULE = Rule(OUT_OF_SCOPE, "zhaomin", refused_status=404)
ACTING_RULE = Rule(OUT_OF_SCOPE, "zhaomin", refused_status=404, seeing=("lijing",))


RULES: dict[tuple[str, str, str], Rule] = {
    ("ingest", "POST", "/v1/vouchers"): Rule(
        ("wangfang", "zhaomin", "sysadmin", "secadmin"),
        ERP,
        {"files": {"voucher": ("v.json", sample_voucher(fonds_code=FONDS))}},
    ),
    ("ingest", "POST", "/v1/materials"): Rule(
        ("wangfang", "zhaomin", "sysadmin", "secadmin"),
        ERP,
        {"files": [("description", ("m.json", sample_material())), ("files", ("m.pdf", PDF))]},
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
    ("ingest", "GET", "/v1/invoice-verifications"): Rule(
        ("outsider", "sysadmin", "secadmin", ERP), "auditor-all", {"params": FONDS_QUERY}
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
    ("archive", "GET", "/v1/completeness"): Rule(
        ("outsider", "sysadmin"), "auditor-all", {"params": FONDS_QUERY}
    ),
    ("archive", "POST", "/v1/completeness/waivers"): Rule(
        ("lijing", "auditor-all", "secadmin"),  # a gap the year does not have: 404
        "zhaomin",
        {"json": {**FONDS_QUERY, "gaps": ["2025/none-such"], "reason": "核对"}},
    ),
    ("archive", "GET", "/v1/vouchers/awaiting-approval"): Rule(
        ("outsider", "sysadmin"), "zhaomin", {"params": {"fonds_code": FONDS}}
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
        {"json": {**FONDS_QUERY, "fiscal_year": 1901, "supervised_by": "wangqiang"}},
    ),
    ("archive", "POST", "/v1/handover-offers/{offer_id}/supervision"): Rule(
        ("lijing", "auditor-all"),  # an offer that does not exist: 404 to anyone
        "wangqiang",
        refused_status=404,
    ),
    ("archive", "POST", "/v1/paper-volumes"): Rule(
        ("lijing", "auditor-all", "sysadmin"),
        "zhaomin",
        {
            "json": {
                **FONDS_QUERY,
                "title": "纸质凭证",
                "location": "档案室 A-01",
                "archive_codes": ["Q001-1901-D30-PZ-999999"],  # none: 422, past authorization
            }
        },
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
        {"params": ZHAOMIN | {"action": "read", "resource": f"record:{uuid.uuid4()}"}},
    ),
    ("permission", "GET", "/v1/visibility"): Rule(
        ("zhaomin", "client:aap-erp"), "client:aap-audit", {"params": ZHAOMIN}
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
    ("audit", "GET", "/v1/proofs/inclusion"): Rule(
        ("zhaomin", "secadmin"), "secauditor", {"params": {"seq": 1, "tree_size": 1}}
    ),
    ("audit", "GET", "/v1/proofs/consistency"): Rule(
        ("lijing", "sysadmin"), "auditor-all", {"params": {"from": 1, "to": 1}}
    ),
    ("audit", "GET", "/v1/checkpoint"): Rule(("wangfang", "secadmin"), "secauditor"),
    ("audit", "GET", "/v1/compliance/article-8"): Rule(
        ("zhaomin", "lijing", "sysadmin"), "auditor-all", {"params": {"fonds_code": FONDS}}
    ),
    ("audit", "GET", "/v1/registers/usage.xlsx"): Rule(
        ("lijing", "sysadmin", "secadmin"),
        "zhaomin",  # the archivist of the fonds keeps it
        {
            "params": {
                "fonds_code": FONDS,
                "since": "2025-01-01T00:00:00Z",
                "until": "2026-01-01T00:00:00Z",
            }
        },
    ),
    ("archive", "GET", "/v1/records/{record_id}"): RECORD_RULE,
    ("archive", "GET", "/v1/records/{record_id}/drill"): RECORD_RULE,
    ("archive", "GET", "/v1/records/{record_id}/versions"): RECORD_RULE,
    ("archive", "GET", "/v1/drill"): Rule(
        OUT_OF_SCOPE, "zhaomin", {"params": {"sha256": "{sha256}"}}, refused_status=404
    ),
    ("archive", "POST", "/v1/records/{record_id}/recheck"): RECORD_RULE,
    ("archive", "GET", "/v1/records/{record_id}/originals/{sha256}"): ACTING_RULE,
    ("archive", "GET", "/v1/records/{record_id}/originals/{sha256}/pages/{number}"): RECORD_RULE,
    ("archive", "POST", "/v1/records/{record_id}/legal-hold"): Rule(
        OUT_OF_SCOPE,
        "zhaomin",
        {"json": {"reason": "核对"}},
        refused_status=404,
        seeing=("lijing",),
    ),
    ("archive", "POST", "/v1/records/{record_id}/disposal"): Rule(
        OUT_OF_SCOPE,
        "zhaomin",  # the record is a voucher: 409, not a fixed-asset card
        {"json": {"disposed_on": "2025-06-30"}},
        refused_status=404,
        seeing=("lijing",),
    ),
    ("archive", "DELETE", "/v1/records/{record_id}/legal-hold"): Rule(
        OUT_OF_SCOPE,
        "zhaomin",
        {"params": {"reason": "核对"}},
        refused_status=404,
        seeing=("lijing",),
    ),
    **{
        (service, "POST", "/v1/dead-letters/redrive"): Rule(
            ("zhaomin", "secadmin", "secauditor", "outsider"), "sysadmin"
        )
        for service in ("ingest", "archive", "approval", "permission", "audit")
    },
    ("archive", "POST", "/v1/records/{record_id}/review"): Rule(
        OUT_OF_SCOPE,
        "zhaomin",
        {"json": {"decision": "accepted"}},
        refused_status=404,
        seeing=("lijing",),
    ),
    # Borrowing is for people: the ERP's and the OA's clients once borrowed, and read.
    ("approval", "POST", "/v1/borrowing-requests"): Rule(
        (ERP, "client:aap-oa"),
        "liuyang",
        {"json": {"fonds_code": FONDS, "record_ids": ["{record_id}"], "reason": "核对", "days": 3}},
    ),
}
ANY_PRINCIPAL = {
    ("ingest", "GET", "/v1/journal-profiles"),
    ("approval", "GET", "/v1/borrowing-requests/{request_id}"),  # the applicant's own (404)
    ("permission", "GET", "/v1/grants"),  # the caller's own
    ("audit", "GET", "/v1/checkpoint/key"),  # the public key, for anyone to verify with
    *(
        (e.service, e.method, e.path)
        for e in ENDPOINTS
        if e.path in {"/asyncapi.json", "/openapi.json"}
    ),
}
PATHS = {  # a role that reads no trail and uploads nothing, on a principal refused everywhere else
    "{user}": "outsider",
    "{role}": "accountant",
    "{fonds_code}": "Q777",
    "{grant_id}": str(uuid.uuid4()),
    "{kind}.{fmt}": "custody.csv",
    "{number}": "1",
    "{offer_id}": str(uuid.uuid4()),
}


def concrete(text: str, record: RecordArchived) -> str:
    scan = next(f for f in record.originals if f.role == "attachment")
    given = {**PATHS, "{record_id}": str(record.record_id), "{sha256}": scan.sha256}
    for placeholder, value in given.items():
        text = text.replace(placeholder, value)
    return text


def request(rule: Rule, record: RecordArchived) -> dict[str, Any]:
    kwargs = dict(rule.kwargs)
    if "params" in kwargs:
        kwargs["params"] = {k: concrete(str(v), record) for k, v in kwargs["params"].items()}
    if "json" in kwargs:
        kwargs["json"] = {
            k: [concrete(x, record) for x in v] if isinstance(v, list) else v
            for k, v in kwargs["json"].items()
        }
    return kwargs


def test_every_endpoint_has_a_role_rule() -> None:
    needing = {(e.service, e.method, e.path) for e in ENDPOINTS if e.access == "token"}
    assert needing - ANY_PRINCIPAL == set(RULES)


@pytest.fixture(scope="module")
async def services(
    platform: PlatformSettings, permission: InProcessPermission
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    via = permission.transport
    async with (
        running(ingest_app(permission_transport=via)) as ingest,
        running(archive_app(permission_transport=via)) as archive,
        running(audit_app(permission_transport=via)) as audit,
        running(approval_app(permission_transport=via)) as approval,
    ):
        yield {
            "ingest": ingest,
            "archive": archive,
            "audit": audit,
            "approval": approval,
            "permission": permission.http,
        }


@pytest.fixture(scope="module")
async def record(
    platform: PlatformSettings, services: dict[str, httpx.AsyncClient]
) -> RecordArchived:
    """A voucher of the sample fonds with a scanned attachment, archived by the archive above
    and known to the permission service."""
    store = s3.ObjectStore(s3.connect(platform), platform.bucket_name("ingest-originals"))
    files = await store_files(
        store,
        [
            ("voucher", "v.json", "application/json", f'{{"n": "{uuid.uuid4()}"}}'.encode()),
            ("attachment", "scan.pdf", "application/pdf", unique_pdf()),
        ],
    )
    voucher = voucher_summary(voucher_no=f"记-{uuid.uuid4().hex[:8]}")
    doc = ingested_document(files, fonds_code=FONDS, voucher=voucher)
    async with (
        EventWatcher(platform.kafka_bootstrap, platform.namespace, [RECORDS_ARCHIVED]) as watch,
        EventSender(platform.kafka_bootstrap, platform.namespace) as out,
    ):
        event = new_event(
            doc, source=source_of("ingest"), subject=str(doc.document_id), correlation_id="c"
        )
        await out.send(event)
        [archived] = await watch.wait_for(of_type("RecordArchived", record_id=str(doc.document_id)))
    await consumed(platform.kafka_bootstrap, platform.namespace, "permission", [RECORDS_ARCHIVED])
    return RecordArchived.model_validate(archived.data)


@pytest.mark.parametrize("endpoint", sorted(RULES), ids=lambda e: f"{e[0]} {e[1]} {e[2]}")
async def test_refused_without_the_role_and_past_authorization_with_it(
    services: dict[str, httpx.AsyncClient],
    record: RecordArchived,
    endpoint: tuple[str, str, str],
) -> None:
    service, method, path = endpoint
    rule, http = RULES[endpoint], services[service]
    url, kwargs = concrete(path, record), request(rule, record)
    for who in rule.refused:
        r = await http.request(method, url, headers=as_user(who), **kwargs)
        assert r.status_code == rule.refused_status, (who, r.text)
    for who in rule.seeing:
        r = await http.request(method, url, headers=as_user(who), **kwargs)
        assert r.status_code == 403, (who, r.text)
    r = await http.request(method, url, headers=as_user(rule.allowed), **kwargs)
    # Past authorization, the endpoint answers the request itself: done, or what is wrong
    # with it (a journal profile that does not exist, an offer that does not), never a refusal
    # of the caller.
    assert r.status_code not in {401, 403}, (rule.allowed, r.text)
    assert r.status_code < 500, r.text
    if endpoint[2] in ("/v1/handovers", "/v1/handover-offers/{offer_id}/supervision"):
        assert r.status_code == 404  # the offer does not exist for anyone
