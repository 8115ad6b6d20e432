"""Every HTTP endpoint of the platform, who may call it and what scope rule filters its answer.

One table: ``docs/endpoints.md`` is generated from it (``make docs``) and a test walks it against
the services' routes, so an endpoint that is not here fails the tests. Every endpoint but the
open ones requires an access token of the platform's identity provider (401 without one); what
the caller may do then is the permission service's roles and grants (see its role table).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Access = Literal["token", "open", "signed"]


@dataclass(frozen=True)
class Endpoint:
    service: str
    method: str
    path: str
    who: str  # the roles (or principals) that may call it
    scope: str  # what the answer is limited to
    access: Access = "token"  # open: anyone (health); signed: the caller's own signature


ARCHIVE_READERS = "archivist, accountant, auditor (their fonds); a borrower with a grant"
FONDS_READERS = "archivist, accountant, auditor of the fonds"
UPLOADERS = "accountant, ERP integration (their fonds)"
SECURITY_ADMIN = "security administrator (安全管理员)"

EVERY_SERVICE: tuple[tuple[str, str, Access], ...] = (
    ("/healthz", "anyone (liveness)", "open"),
    ("/readyz", "anyone (readiness: which dependency is missing; dead letters)", "open"),
    ("/metrics", "anyone (the dead letters not re-driven, Prometheus text)", "open"),
    ("/asyncapi.json", "any authenticated principal", "token"),
    ("/openapi.json", "any authenticated principal", "token"),
)

ENDPOINTS: tuple[Endpoint, ...] = (
    # ingest
    Endpoint("ingest", "POST", "/v1/vouchers", UPLOADERS, "403 for a voucher of another fonds"),
    Endpoint("ingest", "POST", "/v1/materials", UPLOADERS, "403 for a material of another fonds"),
    Endpoint("ingest", "POST", "/v1/journals", UPLOADERS, "403 for a voucher of another fonds"),
    Endpoint("ingest", "POST", "/v1/packages", UPLOADERS, "403 for a voucher of another fonds"),
    Endpoint("ingest", "GET", "/v1/journal-profiles", "any authenticated principal", "—"),
    Endpoint(
        "ingest",
        "GET",
        "/v1/invoice-verifications",
        FONDS_READERS,
        "only the 查验 of invoices of the fonds the caller reads",
    ),
    # archive
    Endpoint("archive", "GET", "/v1/records", ARCHIVE_READERS, "only records the caller may read"),
    Endpoint("archive", "GET", "/v1/records/{record_id}", ARCHIVE_READERS, "403 otherwise"),
    Endpoint("archive", "GET", "/v1/records/{record_id}/drill", ARCHIVE_READERS, "403 otherwise"),
    Endpoint(
        "archive", "GET", "/v1/records/{record_id}/versions", ARCHIVE_READERS, "403 otherwise"
    ),
    Endpoint(
        "archive",
        "GET",
        "/v1/drill",
        ARCHIVE_READERS,
        "404 for a record not readable, the same answer as for none",
    ),
    Endpoint(
        "archive",
        "GET",
        "/v1/records/{record_id}/originals/{sha256}",
        "archivist of the fonds; a 复制 (copy) borrower",
        "the original by role; under a 复制 grant a copy marked as one; 403 otherwise",
    ),
    Endpoint(
        "archive",
        "GET",
        "/v1/records/{record_id}/originals/{sha256}/pages/{number}",
        ARCHIVE_READERS,
        "a page rendered and watermarked; 404 for a record not readable",
    ),
    Endpoint(
        "archive", "POST", "/v1/records/{record_id}/legal-hold", "archivist", "of their fonds"
    ),
    Endpoint(
        "archive", "DELETE", "/v1/records/{record_id}/legal-hold", "archivist", "of their fonds"
    ),
    Endpoint(
        "archive",
        "POST",
        "/v1/records/{record_id}/review",
        "archivist",
        "of their fonds; never a record they uploaded",
    ),
    Endpoint(
        "archive", "POST", "/v1/records/{record_id}/recheck", ARCHIVE_READERS, "403 otherwise"
    ),
    Endpoint("archive", "GET", "/v1/appraisal", FONDS_READERS, "403 for another fonds"),
    Endpoint("archive", "GET", "/v1/volumes", FONDS_READERS, "403 for another fonds"),
    Endpoint(
        "archive", "GET", "/v1/registers/{kind}.{fmt}", FONDS_READERS, "403 for another fonds"
    ),
    Endpoint("archive", "GET", "/v1/numbering", FONDS_READERS, "403 for another fonds"),
    Endpoint("archive", "GET", "/v1/completeness", FONDS_READERS, "403 for another fonds"),
    Endpoint(
        "archive",
        "POST",
        "/v1/records/{record_id}/disposal",
        "archivist",
        "records of their fonds (404 otherwise); audited",
    ),
    Endpoint("archive", "POST", "/v1/completeness/waivers", "archivist", "of their fonds; audited"),
    Endpoint(
        "archive",
        "GET",
        "/v1/vouchers/awaiting-approval",
        FONDS_READERS,
        "403 for another fonds",
    ),
    Endpoint(
        "archive",
        "POST",
        "/v1/handover-offers",
        "accountant (移交人)",
        "of their fonds; names another person as 监交人",
    ),
    Endpoint(
        "archive",
        "POST",
        "/v1/handover-offers/{offer_id}/supervision",
        "the 监交人 the offer names",
        "403 for anyone else",
    ),
    Endpoint(
        "archive",
        "POST",
        "/v1/handovers",
        "archivist (接收人)",
        "of their fonds; a supervised offer; never its 移交人 or 监交人",
    ),
    Endpoint("archive", "POST", "/v1/custody/extensions", "archivist", "of their fonds"),
    Endpoint(
        "archive",
        "POST",
        "/v1/paper-volumes",
        "archivist",
        "of their fonds; the records it relates to of that fonds only",
    ),
    Endpoint("archive", "GET", "/v1/custody/overdue", FONDS_READERS, "403 for another fonds"),
    # approval
    Endpoint(
        "approval",
        "POST",
        "/v1/borrowing-requests",
        "any person (borrower); no client",
        "as the applicant; records of the request's fonds only (422 otherwise)",
    ),
    Endpoint(
        "approval",
        "GET",
        "/v1/borrowing-requests/{request_id}",
        "the applicant",
        "another's request answers 404, as if it did not exist",
    ),
    Endpoint(
        "approval",
        "POST",
        "/v1/oa/decisions",
        "the OA system (HMAC signature of the callback)",
        "an approver who is the applicant is refused (403)",
        access="signed",
    ),
    Endpoint(
        "approval",
        "POST",
        "/v1/oa/approval-records",
        "the OA system (HMAC signature of the callback)",
        "files under the connection's configured fonds only",
        access="signed",
    ),
    *(
        Endpoint(
            "approval",
            method,
            "/v1/oa/{vendor}/{connection}",
            "the OA vendor (钉钉, 飞书, 企业微信) of the connection: its own signature and "
            "encryption with the connection's keys",
            "decides only requests whose OA instance the connection runs; an approver not "
            "mapped to a platform principal grants nothing (403)",
            access="signed",
        )
        for method in ("GET", "POST")
    ),
    # permission
    Endpoint("permission", "GET", "/v1/check", "the services' own clients", "—"),
    Endpoint("permission", "GET", "/v1/visibility", "the services' own clients", "—"),
    Endpoint(
        "permission", "GET", "/v1/roles/{user}", "the services' own clients; the user", "their own"
    ),
    Endpoint(
        "permission",
        "GET",
        "/v1/grants",
        "any authenticated principal",
        "their own grants, each with the records it covers",
    ),
    Endpoint(
        "permission", "POST", "/v1/grants/{grant_id}/withdrawal", SECURITY_ADMIN, "every grant"
    ),
    Endpoint("permission", "GET", "/v1/role-assignments", SECURITY_ADMIN, "every assignment"),
    Endpoint(
        "permission",
        "PUT",
        "/v1/role-assignments/{user}/{role}/{fonds_code}",
        SECURITY_ADMIN,
        "of their fonds; never their own; 三员分立 kept (409)",
    ),
    Endpoint(
        "permission",
        "DELETE",
        "/v1/role-assignments/{user}/{role}/{fonds_code}",
        SECURITY_ADMIN,
        "of their fonds; never their own",
    ),
    # audit
    Endpoint(
        "audit",
        "GET",
        "/v1/entries",
        "security auditor; auditor",
        "an auditor of some fonds: the entries about those fonds only",
    ),
    Endpoint(
        "audit", "GET", "/v1/export", "security auditor; auditor of every fonds", "the whole trail"
    ),
    Endpoint(
        "audit",
        "GET",
        "/v1/verify",
        "security auditor; auditor of every fonds",
        "the whole log, against the newest published checkpoint",
    ),
    Endpoint(
        "audit",
        "GET",
        "/v1/registers/usage.xlsx",
        "archivist; security auditor; auditor",
        "of their fonds only (an auditor or security auditor of every fonds: any)",
    ),
    Endpoint(
        "audit",
        "GET",
        "/v1/compliance/article-8",
        "security auditor; auditor",
        "of their fonds only: the six conditions of 第八条 with their evidence",
    ),
    *(
        Endpoint("audit", "GET", path, "security auditor; auditor", "hashes only: no entry")
        for path in ("/v1/proofs/inclusion", "/v1/proofs/consistency", "/v1/checkpoint")
    ),
    Endpoint("audit", "GET", "/v1/checkpoint/key", "any authenticated principal", "the public key"),
    # every service
    *(
        Endpoint(
            service,
            "POST",
            "/v1/dead-letters/redrive",
            "system administrator (系统管理员) of every fonds",
            "the service's own consumer group's dead letters",
        )
        for service in ("ingest", "archive", "approval", "permission", "audit")
    ),
    *(
        Endpoint(service, "GET", path, who, "—", access=access)
        for service in ("ingest", "archive", "approval", "permission", "audit")
        for path, who, access in EVERY_SERVICE
    ),
)
