"""Archive service: the archive of record."""

from __future__ import annotations

from fastapi import FastAPI

from archive.adapters.consumers import register_consumers
from archive.adapters.http import archive_router
from archive.adapters.permission_client import PermissionClient
from archive.adapters.records import Records
from archive.domain.archive_code import ArchiveCodeRule
from archive.service import ArchiveService
from archive.settings import ArchiveSettings
from contracts.events import RecordArchived
from servicekit import s3
from servicekit.idempotency import ProcessedEvents
from servicekit.service import build_app, build_runtime, serve

SERVICE = "archive"


def create_app(settings: ArchiveSettings | None = None) -> FastAPI:
    settings = settings or ArchiveSettings()
    rt = build_runtime(SERVICE, settings.platform, publishes=[RecordArchived])
    store = s3.ObjectStore(
        s3.connect(settings.platform), settings.platform.bucket_name("archive-originals")
    )
    records = Records(rt.db)
    permissions = PermissionClient(settings.permission_url)
    rt.startup += [store.ensure_bucket, records.ensure_indexes]
    rt.shutdown.append(permissions.close)
    service = ArchiveService(
        records,
        store,
        ProcessedEvents(rt.db, SERVICE),
        rt.publisher,
        permissions,
        ArchiveCodeRule(settings.archive_code_rule),
        rt.source,
    )
    register_consumers(rt, service)
    return build_app(
        rt, title="AAP archive", routers=[archive_router(service)], checks={"s3": store.ready}
    )


def main() -> None:
    settings = ArchiveSettings()
    serve(create_app(settings), settings.http_host, settings.http_port)
