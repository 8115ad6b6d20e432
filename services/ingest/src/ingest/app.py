"""Ingest service: wires the HTTP upload to the object store, its database and Kafka."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from contracts.events import DocumentIngested, DocumentRejected
from ingest.adapters.clamd import Clamd, ScanUnavailable
from ingest.adapters.http import ingest_router
from ingest.adapters.invoice_bookings import InvoiceBookings
from ingest.adapters.submissions import Submissions
from ingest.domain.journal import load_profiles
from ingest.service import IngestService, JournalService, PackageService
from ingest.settings import IngestSettings
from servicekit import s3
from servicekit.service import build_app, build_runtime, serve

SERVICE = "ingest"
PROFILES = Path(__file__).parent / "profiles"  # the built-in journal profiles


def create_app(settings: IngestSettings | None = None) -> FastAPI:
    settings = settings or IngestSettings()
    rt = build_runtime(SERVICE, settings.platform, publishes=[DocumentIngested, DocumentRejected])
    store = s3.ObjectStore(
        s3.connect(settings.platform), settings.platform.bucket_name("ingest-originals")
    )
    submissions = Submissions(rt.db)
    rt.startup += [store.ensure_bucket, submissions.ensure_indexes]
    scanner = Clamd(settings.clamd_address) if settings.clamd_address else None
    service = IngestService(
        store, submissions, InvoiceBookings(rt.db), rt.publisher, rt.source, scanner
    )
    folders = [PROFILES, *([settings.profiles_dir] if settings.profiles_dir else [])]
    journals = JournalService(service, store, load_profiles(*folders))
    app = build_app(
        rt,
        title="AAP ingest",
        routers=[ingest_router(service, journals, PackageService(service))],
        checks={"s3": store.ready},
        max_request_bytes=settings.max_request_bytes,
    )
    app.add_exception_handler(ScanUnavailable, _scanner_down)
    return app


async def _scanner_down(_: Request, error: Exception) -> JSONResponse:
    # Nothing was stored or announced: the upload can simply be sent again.
    return JSONResponse(
        {"detail": f"virus scanner unavailable, nothing accepted: {error}"}, status_code=503
    )


def main() -> None:
    settings = IngestSettings()
    serve(create_app(settings), settings.http_host, settings.http_port)
