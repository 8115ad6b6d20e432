"""Ingest service: wires the HTTP upload to the parsing workers, the object store, its database
and Kafka, and maps what the use cases refuse to HTTP once."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from contracts.events import DocumentIngested, DocumentRejected, InvoiceVerified
from ingest.adapters.http import TooLarge, ingest_router, upload_admissions
from ingest.adapters.invoice_bookings import InvoiceBookings
from ingest.adapters.invoice_verifier import HttpInvoiceVerifier
from ingest.adapters.submissions import Submissions
from ingest.adapters.verifications import Verifications
from ingest.adapters.voucher_keys import VoucherKeys
from ingest.domain.uploaders import OutOfScope
from ingest.journals import BeyondParsing, JournalService, OverLimit, UnknownProfile, Unreadable
from ingest.packages import PackageService
from ingest.parsers.journal import load_profiles
from ingest.parsers.signatures import TrustAnchors
from ingest.parsers.sm2_verifier import Sm2Verifier
from ingest.service import IngestService
from ingest.settings import IngestSettings
from ingest.verifications import InvoiceChecks
from servicekit import s3
from servicekit.clamd import Clamd, ScanUnavailable
from servicekit.health import Check
from servicekit.periodic import Periodic
from servicekit.roles import RoleDirectory, follow_role_changes
from servicekit.service import Runtime, build_app, build_runtime, serve
from servicekit.workers import WorkerPool

SERVICE = "ingest"
PROFILES = Path(__file__).parent / "profiles"  # the built-in journal profiles
# What the parsing workers import once, in their fork server, so that a new one starts fast.
PARSERS = ["ingest.parsers.files", "ingest.parsers.journal_file", "ingest.parsers.archive_package"]


def create_app(
    settings: IngestSettings | None = None,
    permission_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """``permission_transport`` lets a test reach an in-process permission service."""
    settings = settings or IngestSettings()
    rt = build_runtime(
        SERVICE, settings.platform, publishes=[DocumentIngested, DocumentRejected, InvoiceVerified]
    )
    token = rt.service_token(settings.oidc_client_id, settings.oidc_client_secret)
    directory = RoleDirectory(settings.permission_url, token, permission_transport)
    rt.shutdown.append(directory.close)
    follow_role_changes(rt.broker, rt.platform, directory)
    store = s3.ObjectStore(
        s3.connect(settings.platform), settings.platform.bucket_name("ingest-originals")
    )
    submissions, keys = Submissions(rt.db), VoucherKeys(rt.db)
    parsers = WorkerPool(settings.worker_limits, preload=PARSERS)
    rt.startup.append(store.ensure_bucket)
    rt.startup.append(parsers.start)
    rt.shutdown.append(parsers.close)
    scanner = Clamd(settings.clamd_address) if settings.clamd_address else None
    invoice_checks = InvoiceChecks(
        _verifier(settings, rt), Verifications(rt.db), rt.publisher, rt.unit_of_work(),
        rt.source, settings.verify_retry_seconds,
    )  # fmt: skip
    asking_again = Periodic(
        "查验 asked again",
        invoice_checks.ask_again,
        settings.verify_retry_seconds if invoice_checks.configured else 0,
        first_at_start=True,
    )
    rt.after_start.append(asking_again.start)
    rt.before_stop.append(asking_again.stop)
    sm2 = (
        Sm2Verifier((str(settings.sm2_verifier),), settings.parse_seconds * 2 / 3)
        if settings.sm2_verifier
        else None
    )  # the JVM given less time than its worker, so that it is stopped before the worker is
    service = IngestService(
        store, submissions, InvoiceBookings(rt.db), keys, rt.publisher, rt.unit_of_work(),
        parsers, rt.source, scanner, TrustAnchors.from_file(settings.trust_anchors),
        invoice_checks, sm2,
    )  # fmt: skip
    folders = [PROFILES, *([settings.profiles_dir] if settings.profiles_dir else [])]
    journals = JournalService(
        service, store, parsers, load_profiles(*folders), settings.journal_limits
    )
    checks: dict[str, Check] = {"s3": store.ready}
    if scanner is not None:
        checks["clamd"] = scanner.version
    app = build_app(
        rt,
        title="AAP ingest",
        routers=[
            ingest_router(
                service,
                journals,
                PackageService(service, parsers),
                invoice_checks,
                max_voucher_bytes=settings.max_request_bytes,
                max_journal_bytes=settings.max_journal_bytes,
                max_package_bytes=settings.max_package_bytes,
                spool_dir=settings.spool_dir,
                directory=directory,
            )
        ],
        checks=checks,
        max_request_bytes=settings.max_request_bytes,
        admissions=upload_admissions(directory),
        errors={
            OutOfScope: 403,
            TooLarge: 413,
            OverLimit: 413,
            BeyondParsing: 422,
            UnknownProfile: 422,
        },
        roles=directory,
    )
    app.add_exception_handler(ScanUnavailable, _scanner_down)
    app.add_exception_handler(Unreadable, _unreadable)
    return app


def _verifier(settings: IngestSettings, rt: Runtime) -> HttpInvoiceVerifier | None:
    """The 查验 provider's endpoint, if one is configured."""
    if not settings.verify_url:
        return None
    assert settings.verify_app_id and settings.verify_app_secret  # the settings require them
    verifier = HttpInvoiceVerifier(
        settings.verify_url,
        settings.verify_app_id,
        settings.verify_app_secret.get_secret_value(),
        settings.verify_timeout_seconds,
    )
    rt.shutdown.append(verifier.close)
    return verifier


async def _scanner_down(_: Request, error: Exception) -> JSONResponse:
    """Nothing was stored or announced: the sender sends again."""
    detail = f"virus scanner unavailable, nothing accepted: {error}"
    return JSONResponse({"detail": detail}, status_code=503)


async def _unreadable(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, Unreadable)
    problems = [
        {"check": f.item.code, "field": f.field, "message": f.message} for f in error.findings
    ]
    return JSONResponse({"status": "rejected", "problems": problems}, status_code=422)


def main() -> None:
    settings = IngestSettings()
    serve(create_app(settings), settings.http_host, settings.http_port)
