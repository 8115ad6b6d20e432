"""Archive service: the archive of record."""

from __future__ import annotations

from datetime import timedelta

import httpx
import structlog
from fastapi import FastAPI

from archive.adapters.approval_links import ApprovalLinksStore
from archive.adapters.approval_pdf import ApprovalPdf
from archive.adapters.completeness_http import completeness_router
from archive.adapters.consumers import register_consumers
from archive.adapters.corrections import WaitingCorrections
from archive.adapters.handovers import Handovers
from archive.adapters.holds import Holds
from archive.adapters.http import archive_router
from archive.adapters.paper_volumes import PaperVolumes
from archive.adapters.permission_client import PermissionClient
from archive.adapters.readability import reader_in
from archive.adapters.records import Records
from archive.adapters.register_files import RegisterFiles
from archive.adapters.rendering import PooledRenditions
from archive.adapters.reviews import Reviews
from archive.adapters.search_index import SearchIndex
from archive.adapters.years import Years
from archive.approval_records import ApprovalRecords
from archive.assets import AssetService
from archive.completeness import CompletenessService
from archive.custody import CustodyService
from archive.domain.archive_code import ArchiveCodeRule
from archive.handover import HandoverService
from archive.handover_lists import HandoverLists
from archive.integrity import IntegrityService, Surroundings
from archive.late_corrections import Corrections
from archive.originals import Originals
from archive.paper_archives import PaperArchives
from archive.service import ArchiveService
from archive.settings import ArchiveSettings
from contracts.envelope import EventData
from contracts.events import (
    ApprovalRecordLinked,
    AssetDisposalRecorded,
    CorrectionLinked,
    CustodyExtended,
    GapWaived,
    HandoverSupervised,
    IntegrityAlertRaised,
    LegalHoldPlaced,
    LegalHoldReleased,
    PaperVolumeRegistered,
    RecordArchived,
    RecordReviewed,
    RecordsAccessed,
    RecordsHandedOver,
)
from servicekit import s3
from servicekit.clamd import Clamd
from servicekit.periodic import Periodic
from servicekit.roles import RoleDirectory
from servicekit.service import build_app, build_runtime, serve
from servicekit.workers import WorkerPool

# Imported once in each worker, before a call.
READERS = ["archive.adapters.readability", "archive.adapters.rendering"]

SERVICE = "archive"
log = structlog.get_logger()
PUBLISHES: list[type[EventData]] = [
    RecordArchived,
    ApprovalRecordLinked,
    LegalHoldPlaced,
    LegalHoldReleased,
    RecordsHandedOver,
    HandoverSupervised,
    PaperVolumeRegistered,
    GapWaived,
    AssetDisposalRecorded,
    CorrectionLinked,
    CustodyExtended,
    RecordReviewed,
    IntegrityAlertRaised,
    RecordsAccessed,  # every read of records is on record
]


def create_app(
    settings: ArchiveSettings | None = None,
    permission_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """``permission_transport`` lets a test reach an in-process permission service."""
    settings = settings or ArchiveSettings()
    rt = build_runtime(SERVICE, settings.platform, publishes=PUBLISHES)
    store = s3.ObjectStore(
        s3.connect(settings.platform), settings.platform.bucket_name("archive-originals")
    )
    records = Records(rt.db)
    index = SearchIndex()
    token = rt.service_token(settings.oidc_client_id, settings.oidc_client_secret)
    permissions = PermissionClient(settings.permission_url, token, permission_transport)
    directory = RoleDirectory(settings.permission_url, token, permission_transport)
    rt.shutdown.append(directory.close)
    rule = ArchiveCodeRule(settings.archive_code_rule)
    unit = rt.unit_of_work()
    approval_records = ApprovalRecords(
        records,
        index,
        store,
        ApprovalLinksStore(rt.db),
        ApprovalPdf(settings.cjk_font),
        rt.publisher,
        permissions,
        rule,
        {fonds: e.rule() for fonds, e in settings.approvals_expected.items()},
        rt.source,
        unit,
    )
    corrections = Corrections(records, WaitingCorrections(rt.db), rt.publisher, rt.source, unit)
    holds = Holds(rt.db)
    paper = PaperArchives(records, PaperVolumes(rt.db), permissions, rt.publisher, rt.source, unit)
    service = ArchiveService(
        records,
        index,
        store,
        rt.publisher,
        permissions,
        rule,
        rt.source,
        approval_records,
        unit,
        corrections,
        holds,
        paper,
    )
    handovers = Handovers(rt.db, timedelta(seconds=settings.handover_mark_lease_seconds))
    custody = CustodyService(
        records,
        holds,
        handovers,
        Reviews(rt.db),
        index,
        store,
        rt.publisher,
        permissions,
        rt.source,
        unit,
    )
    completeness = CompletenessService(
        Years(rt.db), rt.publisher, permissions, rt.source, unit, settings.bank_accounts
    )
    readers = WorkerPool(settings.read_limits, preload=READERS)
    rt.startup.append(readers.start)
    rt.shutdown.append(readers.close)
    scanner = Clamd(settings.clamd_address) if settings.clamd_address else None
    integrity = IntegrityService(
        records, store, rt.publisher, permissions, rule, rt.source,
        Surroundings(scanner, reader_in(readers), completeness.year, records.custody_years),
    )  # fmt: skip
    originals = Originals(
        records,
        store,
        permissions,
        PooledRenditions(readers, str(settings.cjk_font)),
        rt.publisher,
        rt.source,
    )
    assets = AssetService(records, holds, store, rt.publisher, permissions, rt.source, unit)
    lists = HandoverLists(
        records,
        index,
        store,
        RegisterFiles(settings.cjk_font),
        rt.publisher,
        rule,
        rt.source,
    )
    handover = HandoverService(
        records,
        handovers,
        integrity,
        rt.publisher,
        permissions,
        rt.source,
        unit,
        completeness,
        lists,
    )
    sweeper = Periodic(
        "re-check sweep",
        integrity.recheck_all,
        settings.recheck_sweep_seconds,
        first_at_start=False,
    )
    rt.startup.append(store.ensure_bucket)
    rt.in_background("fill the search index", lambda: fill_index(index, records))
    rt.in_background("complete interrupted handovers", handover.resume_handovers)
    rt.after_start.append(sweeper.start)
    rt.before_stop.append(sweeper.stop)
    rt.shutdown.append(permissions.close)
    register_consumers(rt, service, approval_records, settings.instance_id)
    return build_app(
        rt,
        title="AAP archive",
        routers=[
            archive_router(
                service,
                custody,
                integrity,
                handover,
                approval_records,
                completeness,
                assets,
                originals,
                paper,
            ),
            completeness_router(completeness),
        ],
        checks={
            "s3": store.ready,
            "search_index": index.check_ready,
            "permission": permissions.ready,
        },
        roles=directory,
    )


async def fill_index(index: SearchIndex, records: Records) -> None:
    """Fill the search index: the service answers, but is not ready, meanwhile."""
    count = await index.fill(records.all_records())
    log.info("search index filled", records=count)


def main() -> None:
    settings = ArchiveSettings()
    serve(create_app(settings), settings.http_host, settings.http_port)
