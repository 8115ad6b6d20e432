"""The restore drill (会计档案管理办法 第八条 (五)): records archived, a borrowing granted, the
year handed over and the trail kept; backed up; work goes on; then the stack is lost (its
databases dropped, its object store replaced by an empty one) and the backup is restored into it.

What must hold: every record of the backup re-checks with its SHA-256 and SM3 as archived, its
originals locked again; the grant opens what it opened; the services handle again, from the
topics that survived, what they handled after the backup, so the record archived after it is
archived again, with the same code, from its upload (the ingest bucket replicated to the second
site, as docs/operations.md asks); the audit log grows back and verifies against its published
checkpoints.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path
from typing import Any

import httpx
import pytest
from minio.commonconfig import COMPLIANCE

from archive.app import create_app as archive_app
from archive.settings import ArchiveSettings
from audit.app import create_app as audit_app
from audit.settings import AuditSettings
from contracts.envelope import new_event
from contracts.events import ApprovalDecided, DocumentIngested, RecordArchived
from contracts.topics import (
    ACCESS_GRANTED,
    DOCUMENTS_INGESTED,
    RECORDS_ARCHIVED,
    source_of,
    topics,
)
from devkit import backup, pg_access, s3_access
from devkit.identity import as_user, subject_of
from devkit.namespace import discard, provision
from devkit.samples import ingested_document, store_files, unique_pdf, voucher_summary
from devkit.secretfile import local_dir
from devkit.send import EventSender
from devkit.stack import ARCHIVIST, AUDITOR
from devkit.testing import free_port, running, waive_gaps
from devkit.watch import EventWatcher, consumed, of_type
from permission.app import create_app as permission_app
from permission.settings import PermissionSettings
from servicekit import s3
from servicekit.settings import PlatformSettings

ARCHIVE_CALLS = as_user("client:aap-archive")  # who asks the permission service's check
ACCOUNTANT = "lijing"  # the local stack's 会计人员 of Q001: offers the year for handover


async def empty_object_store(folder: Path) -> AsyncIterator[str]:
    """Another MinIO, empty, with the local administrator and KMS key: where the lost stack's
    objects come back to (locked objects cannot be wiped from the first)."""
    keys = s3_access.local_secrets()
    address = f"127.0.0.1:{free_port()}"
    env = os.environ | {
        "MINIO_ROOT_USER": s3_access.ROOT_USER,
        "MINIO_ROOT_PASSWORD": keys["root_password"],
        "MINIO_KMS_SECRET_KEY": keys["kms_secret_key"],
        "MINIO_BROWSER": "off",
    }
    server = subprocess.Popen(  # noqa: ASYNC220 - our own build of MinIO
        [str(local_dir() / "bin" / "minio"), "server", "--quiet", "--address", address,
         str(folder)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield address
    finally:
        server.terminate()
        await asyncio.to_thread(server.wait, 30)


async def answering(platform: PlatformSettings) -> None:
    """The positive signal that an object store is up: it answers a bucket lookup."""
    client = s3.connect(platform)
    async with asyncio.timeout(60):
        while True:
            try:
                await asyncio.to_thread(client.bucket_exists, "probe")
                return
            except Exception:
                await asyncio.sleep(0.2)


async def archive(platform: PlatformSettings, out: EventSender, n: int) -> RecordArchived:
    store = s3.ObjectStore(s3.connect(platform), platform.bucket_name("ingest-originals"))
    files = await store_files(
        store,
        [
            ("voucher", "voucher.json", "application/json", f'{{"n": {n}}}'.encode()),
            ("attachment", "scan.pdf", "application/pdf", unique_pdf()),
        ],
    )
    voucher = voucher_summary(voucher_no=f"记-{n + 1:04d}")  # one record per voucher
    doc: DocumentIngested = ingested_document(files, voucher=voucher, fiscal_year=2020)
    async with EventWatcher(platform.kafka_bootstrap, platform.namespace, [RECORDS_ARCHIVED]) as w:
        await out.send(
            new_event(doc, source=source_of("ingest"), subject=str(doc.document_id),
                      correlation_id="c")
        )  # fmt: skip
        [archived] = await w.wait_for(of_type("RecordArchived", record_id=str(doc.document_id)))
    return RecordArchived.model_validate(archived.data)


@pytest.fixture
async def lost(
    platform: PlatformSettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> AsyncIterator[tuple[PlatformSettings, PlatformSettings, Path]]:
    """A stack of the test's own (a namespace), and the same namespace on an empty object
    store: (before, after, where the backup goes)."""
    ns = "rd" + secrets.token_hex(3)
    await provision(platform, ns)
    for name, value in pg_access.namespace_env(ns).items():
        monkeypatch.setenv(name, value)
    before = platform.model_copy(update={"namespace": ns})
    try:
        async for address in empty_object_store(tmp_path / "minio"):
            yield before, before.model_copy(update={"s3_endpoint": address}), tmp_path / "backup"
    finally:
        await discard(platform, ns)


AUDITED = [t for t in topics(()) if "audit" in t.consumers]


async def uploaded_since(
    platform: PlatformSettings, manifest: dict[str, object]
) -> list[tuple[str, bytes]]:
    """What reached the ingest bucket after the backup: what S3 replication to a second site
    carries over (docs/operations.md), read before the first site is lost."""
    backed_up = {(o["key"], o["version_id"]) for o in manifest["objects"]}  # type: ignore[attr-defined]
    store = s3.ObjectStore(s3.connect(platform), platform.bucket_name("ingest-originals"))
    return [
        (key, await store.get(key, version))
        for key, versions in (await store.versions("")).items()
        for version in versions
        if (key, version) not in backed_up
    ]


async def replicate(platform: PlatformSettings, uploads: list[tuple[str, bytes]]) -> None:
    store = s3.ObjectStore(s3.connect(platform), platform.bucket_name("ingest-originals"))
    for key, data in uploads:
        await store.put(key, data, "application/octet-stream")


async def trail_length(platform: PlatformSettings, audit: httpx.AsyncClient) -> int:
    """Entries in the audit log once it has recorded everything published so far."""
    await consumed(platform.kafka_bootstrap, platform.namespace, "audit", AUDITED)
    verified = (await audit.get("/v1/verify", headers=as_user(AUDITOR))).json()
    assert verified["ok"] is True, verified
    return int(verified["entries_checked"])


@asynccontextmanager
async def services(platform: PlatformSettings) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """The permission service, the archive and the audit service of ``platform``'s stack."""
    checker = permission_app(PermissionSettings(platform=platform))
    asks = httpx.ASGITransport(checker)
    audit = AuditSettings(platform=platform, checkpoint_entries=5, checkpoint_seconds=1)
    async with (
        running(checker) as permission,
        running(archive_app(ArchiveSettings(platform=platform), permission_transport=asks)) as a,
        running(audit_app(audit, permission_transport=asks)) as trail,
    ):
        yield {"permission": permission, "archive": a, "audit": trail}


async def handed_over(
    archive: httpx.AsyncClient, record: RecordArchived
) -> list[dict[str, object]]:
    """The accounting department hands the record's year over, the archive accepts it: the
    year's volumes as bound."""
    body = {
        "fonds_code": record.fonds_code,
        "fiscal_year": record.fiscal_year,
        "supervised_by": "wangqiang",
    }
    offered = await archive.post("/v1/handover-offers", json=body, headers=as_user(ACCOUNTANT))
    assert offered.status_code == 201, offered.text
    supervision = f"/v1/handover-offers/{offered.json()['offer_id']}/supervision"
    supervised = await archive.post(supervision, headers=as_user("wangqiang"))
    assert supervised.status_code == 201, supervised.text
    reason = "演练：只移交这一份凭证"
    await waive_gaps(archive, record.fonds_code, record.fiscal_year, ARCHIVIST, reason)
    accepted = await archive.post(
        "/v1/handovers", json={"offer_id": offered.json()["offer_id"]}, headers=as_user(ARCHIVIST)
    )
    assert accepted.status_code == 201, accepted.text
    bound = await volumes(archive, record)
    assert bound and all(v["bound"] for v in bound)
    return bound


async def volumes(archive: httpx.AsyncClient, record: RecordArchived) -> list[dict[str, object]]:
    params: dict[str, str | int] = {
        "fonds_code": record.fonds_code,
        "fiscal_year": record.fiscal_year,
    }
    r = await archive.get("/v1/volumes", params=params, headers=as_user(ARCHIVIST))
    assert r.status_code == 200, r.text
    return [{k: v[k] for k in ("volume", "items", "bound")} for v in r.json()]


async def kept_on_trail(audit: httpx.AsyncClient, event: str) -> list[dict[str, Any]]:
    """What the audit log keeps of each event of a type, as an auditor reads it."""
    params = {"event_type": f"cn.aap.{event}.v1"}
    found = await audit.get("/v1/entries", params=params, headers=as_user(AUDITOR))
    assert found.status_code == 200, found.text
    return [entry["data"] for entry in found.json()["items"]]


async def ready(service: httpx.AsyncClient) -> None:
    """The positive signal that a service is ready (/readyz answers 200), within a minute."""
    async with asyncio.timeout(60):
        while True:
            if (await service.get("/readyz")).status_code == 200:
                return
            await asyncio.sleep(0.2)


async def allowed(permission: httpx.AsyncClient, ask: dict[str, str]) -> bool:
    return bool(
        (await permission.get("/v1/check", params=ask, headers=ARCHIVE_CALLS)).json()["allowed"]
    )


async def test_a_backup_restored_into_an_empty_stack_rechecks_grants_and_verifies(
    lost: tuple[PlatformSettings, PlatformSettings, Path],
) -> None:
    before, after, folder = lost
    async with (
        services(before) as http,
        EventSender(before.kafka_bootstrap, before.namespace) as out,
        EventWatcher(before.kafka_bootstrap, before.namespace, [ACCESS_GRANTED]) as granted,
    ):
        records = [await archive(before, out, n) for n in range(3)]
        await consumed(before.kafka_bootstrap, before.namespace, "permission", [RECORDS_ARCHIVED])
        request, now = uuid.uuid4(), datetime.now(UTC)
        decided = ApprovalDecided(
            request_id=request, kind="borrowing", applicant="wangfang", fonds_code="Q001",
            record_ids=(records[0].record_id,), decision="approved", approver="王强",
            comment="", oa_instance_id="OA-1", decided_at=now, access_until=now + timedelta(days=7),
        )  # fmt: skip
        await out.send(
            new_event(decided, source=source_of("approval"), subject=str(request),
                      correlation_id="c")
        )  # fmt: skip
        await granted.wait_for(of_type("AccessGranted"))
        ask = {"user": "wangfang", "subject": subject_of("wangfang"), "action": "read",
               "resource": f"record:{records[0].record_id}"}  # fmt: skip
        assert await allowed(http["permission"], ask)
        bound = await handed_over(http["archive"], records[0])
        await trail_length(before, http["audit"])
        manifest = await asyncio.to_thread(backup.take, before, folder)
        later = await archive(before, out, 3)  # work goes on after the backup
        trail_at_loss = await trail_length(before, http["audit"])
        # The backup is on the trail, tied to its files by the manifest's digest.
        [taken] = await kept_on_trail(http["audit"], "BackupTaken")
        assert taken["backup_id"] == manifest["backup_id"]
        assert (
            taken["manifest_sha256"] == sha256((folder / "manifest.json").read_bytes()).hexdigest()
        )
        assert taken["objects"] == len(manifest["objects"])
    uploads = await uploaded_since(before, manifest)

    # The stack is lost: its databases dropped, its objects on a store that is gone.
    pg_access.remove(before, before.namespace)
    await answering(after)
    s3_access.apply(after, after.namespace)
    restored = await asyncio.to_thread(backup.restore, after, folder)
    await replicate(after, uploads)

    async with services(after) as http:
        # The positive signal: the archive has handled every upload announced, again.
        await consumed(after.kafka_bootstrap, after.namespace, "archive", [DOCUMENTS_INGESTED])
        for record in [*records, later]:
            checked = await http["archive"].post(
                f"/v1/records/{record.record_id}/recheck", headers=as_user(ARCHIVIST)
            )
            assert checked.status_code == 200 and checked.json()["ok"] is True, checked.text
        again = await http["archive"].get(
            f"/v1/records/{later.record_id}", headers=as_user(ARCHIVIST)
        )
        assert again.status_code == 200, again.text  # archived after the backup: here again
        assert again.json()["archive_code"] == later.archive_code
        await ready(http["archive"])  # its search index filled from the restored database
        found = await http["archive"].get(
            "/v1/records",
            params={"fonds_code": later.fonds_code, "with_total": "true"},
            headers=as_user(ARCHIVIST),
        )
        assert found.status_code == 200, found.text
        # As many as before the loss: the records, the handover's 移交清册, the later one.
        assert found.json()["total"] == len(records) + 2
        # The handover stands: the year's volume bound as it was, the later record beside it.
        assert await volumes(http["archive"], later) == [
            *bound,
            {"volume": len(bound) + 1, "items": 1, "bound": False},
        ]
        assert await allowed(http["permission"], ask)
        # The trail grows back from the topics that survived, and verifies (trail_length);
        # the restore is on it, with each object's old and new version id.
        assert await trail_length(after, http["audit"]) > trail_at_loss
        assert [t["backup_id"] for t in await kept_on_trail(http["audit"], "BackupTaken")] == [
            manifest["backup_id"]
        ]
        [told] = await kept_on_trail(http["audit"], "RecordsRestored")
        moved = {(o["key"], o["old_version_id"], o["new_version_id"]) for o in told["objects"]}
        assert moved == {(r.key, r.old_version_id, r.new_version_id) for r in restored}
    kept = {o.object_key for r in records for o in r.originals}
    assert kept <= {r.key for r in restored if r.bucket == "archive-originals"}
    assert all(r.old_version_id != r.new_version_id for r in restored)
    client = s3.connect(after)
    for record in records:
        for o in record.originals:
            retention = client.get_object_retention(o.bucket, o.object_key)
            assert retention is not None and retention.mode == COMPLIANCE
