"""Borrowing by mode (第十三条) on the real servers: a 查阅 borrower reads an original's pages,
rendered and watermarked, and is refused its bytes; a 复制 borrower downloads a copy marked as one
— a signed PDF stamped in an incremental update whose signed revision still verifies, any other
format in a package naming the same — and each use is on record with its grant."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import secrets
import uuid
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from PIL import Image
from pyhanko.sign.validation import SignatureCoverageLevel

from archive.app import create_app as archive_app
from contracts.borrowing import BorrowingMode
from contracts.envelope import new_event
from contracts.events import ApprovalDecided, DocumentIngested
from contracts.topics import ACCESS_GRANTED, RECORDS_ACCESSED, RECORDS_ARCHIVED, source_of
from devkit.identity import as_user
from devkit.pki import Authority, first_signature, sign_pdf, stamps
from devkit.samples import PDF, ingested_document, store_files
from devkit.send import EventSender
from devkit.testing import SECURITY_ADMIN, InProcessPermission, running
from devkit.watch import EventWatcher, consumed, of_type
from servicekit import s3
from servicekit.settings import PlatformSettings

FONDS = "B" + secrets.token_hex(3).upper()
ARCHIVIST, VIEWER, COPIER = "zhaomin", "liuyang", "wangfang"
AUTHORITY = Authority.root("AAP 借阅测试根证书")
RECEIPT_XML = "<电子回单><金额>56500.00</金额><用途>货款</用途></电子回单>".encode()


@pytest.fixture(scope="module")
async def borrowed(
    platform: PlatformSettings, permission: InProcessPermission
) -> AsyncIterator[tuple[httpx.AsyncClient, DocumentIngested, dict[str, uuid.UUID]]]:
    """A record of FONDS holding a signed PDF and an XML receipt, lent to VIEWER for 查阅 and
    to COPIER for 复制 (the approval service's decisions, as it publishes them)."""
    signed = await asyncio.to_thread(
        sign_pdf, PDF, AUTHORITY.issue("上海浦东发展银行 电子回单专用", "上海浦东发展银行")
    )
    store = s3.ObjectStore(s3.connect(platform), platform.bucket_name("ingest-originals"))
    await store.ensure_bucket()
    files = await store_files(
        store,
        [
            ("voucher", "voucher.json", "application/json", f'{{"id": "{uuid.uuid4()}"}}'.encode()),
            ("attachment", "回单.pdf", "application/pdf", signed),
            ("attachment", "回单.xml", "application/xml", RECEIPT_XML),
        ],
    )
    doc = ingested_document(files, fonds_code=FONDS)
    await permission.assign((ARCHIVIST, "archivist", FONDS))
    async with (
        running(archive_app(permission_transport=permission.transport)) as http,
        EventWatcher(
            platform.kafka_bootstrap, platform.namespace, [RECORDS_ARCHIVED, ACCESS_GRANTED]
        ) as watch,
        EventSender(platform.kafka_bootstrap, platform.namespace) as out,
    ):
        subject = str(doc.document_id)
        await out.send(
            new_event(doc, source=source_of("ingest"), subject=subject, correlation_id="c")
        )
        await watch.wait_for(of_type("RecordArchived", record_id=subject))
        await consumed(
            platform.kafka_bootstrap, platform.namespace, "permission", [RECORDS_ARCHIVED]
        )
        grants: dict[str, uuid.UUID] = {}
        lent: tuple[tuple[str, BorrowingMode], ...] = ((VIEWER, "view"), (COPIER, "copy"))
        for user, mode in lent:
            decided = approved(user, mode, doc.document_id)
            rid = str(decided.request_id)
            await out.send(
                new_event(decided, source=source_of("approval"), subject=rid, correlation_id=rid)
            )
            [granted] = await watch.wait_for(of_type("AccessGranted", request_id=rid))
            grants[user] = uuid.UUID(granted.data["grant_id"])
        yield http, doc, grants
        # Withdrawn when done, as the security administrator would: the borrowers' other tests
        # see only what they are lent there.
        for grant in grants.values():
            r = await permission.http.post(
                f"/v1/grants/{grant}/withdrawal", headers=as_user(SECURITY_ADMIN)
            )
            assert r.status_code == 200, r.text


def approved(user: str, mode: BorrowingMode, record: uuid.UUID) -> ApprovalDecided:
    now = datetime.now(UTC)
    return ApprovalDecided(
        request_id=uuid.uuid4(),
        kind="borrowing",
        applicant=user,
        fonds_code=FONDS,
        record_ids=(record,),
        decision="approved",
        approver="王强",
        comment="同意",
        oa_instance_id=f"OA-{mode}",
        decided_at=now,
        access_until=now + timedelta(days=3),
        days=3,
        mode=mode,
    )


def original(doc: DocumentIngested, name: str) -> str:
    return next(f.sha256 for f in doc.files if f.filename == name)


async def test_a_view_borrower_reads_watermarked_pages_and_never_the_bytes(
    borrowed: Any, platform: PlatformSettings
) -> None:
    http, doc, grants = borrowed
    record, pdf = doc.document_id, original(doc, "回单.pdf")
    async with EventWatcher(
        platform.kafka_bootstrap, platform.namespace, [RECORDS_ACCESSED]
    ) as watch:
        r = await http.get(f"/v1/records/{record}/originals/{pdf}", headers=as_user(VIEWER))
        assert r.status_code == 403, r.text  # sees the record, may not take its bytes
        assert "no role or grant lets liuyang download" in r.json()["detail"]
        r = await http.get(f"/v1/records/{record}/originals/{pdf}/pages/1", headers=as_user(VIEWER))
        assert r.status_code == 200, r.text
        assert (r.headers["content-type"], r.headers["x-aap-page-count"]) == ("image/png", "1")
        [page] = await watch.wait_for(of_type("RecordsAccessed", principal=VIEWER))
    image = Image.open(io.BytesIO(r.content))
    mark = image.info["AAP-Watermark"]
    assert mark.startswith("查阅 VIEW · ")
    assert VIEWER in mark and str(grants[VIEWER]) in mark
    # The watermark is drawn on the page, along its foot in red (not only in the metadata).
    foot = image.convert("RGB").crop((0, image.height - 40, image.width, image.height))
    rgb = foot.tobytes()
    red = [i for i in range(0, len(rgb), 3) if rgb[i] > 150 and rgb[i + 1] < 90 and rgb[i + 2] < 90]
    assert len(red) > 50
    assert (
        await first_signature(r.content, AUTHORITY.certificate) is None
    )  # an image: nothing of the original's bytes
    assert (page.data["action"], page.data["grant_id"]) == ("page", str(grants[VIEWER]))
    assert page.data["original_sha256"] == pdf
    # A page that is not there, and a format not rendered yet, answer with the reason.
    r = await http.get(f"/v1/records/{record}/originals/{pdf}/pages/2", headers=as_user(VIEWER))
    assert r.status_code == 422 and r.json()["detail"] == (
        "the original has 1 page(s); there is no page 2"
    )
    xml = original(doc, "回单.xml")
    r = await http.get(f"/v1/records/{record}/originals/{xml}/pages/1", headers=as_user(VIEWER))
    assert r.status_code == 200, r.text  # structured data shown as its text, watermarked
    # Someone with no grant on the record: as if it did not exist.
    r = await http.get(f"/v1/records/{record}/originals/{pdf}/pages/1", headers=as_user("outsider"))
    assert r.status_code == 404


async def test_a_copy_borrower_downloads_copies_marked_as_copies(
    borrowed: Any, platform: PlatformSettings
) -> None:
    http, doc, grants = borrowed
    record, pdf, xml = doc.document_id, original(doc, "回单.pdf"), original(doc, "回单.xml")
    async with EventWatcher(
        platform.kafka_bootstrap, platform.namespace, [RECORDS_ACCESSED]
    ) as watch:
        r = await http.get(f"/v1/records/{record}/originals/{pdf}", headers=as_user(COPIER))
        assert r.status_code == 200, r.text
        copy, named = r.content, r.headers["content-disposition"]
        r = await http.get(f"/v1/records/{record}/originals/{xml}", headers=as_user(COPIER))
        assert r.status_code == 200, r.text
        package = r
        copied = await watch.wait_for(of_type("RecordsAccessed", principal=COPIER), count=2)
    assert named == f"attachment; filename*=UTF-8''{quote('回单-复制件.pdf')}"
    # The PDF: the original's bytes first, unchanged, then the stamp in an incremental update.
    archived = await http.get(f"/v1/records/{record}/originals/{pdf}", headers=as_user(ARCHIVIST))
    assert archived.status_code == 200 and copy.startswith(archived.content)
    assert len(copy) > len(archived.content)
    status = await first_signature(copy, AUTHORITY.certificate)
    # The signature verifies, by a signer chained to its CA, over its revision: the original.
    assert status is not None and (status.intact, status.valid, status.trusted) == (True,) * 3
    assert status.coverage is SignatureCoverageLevel.ENTIRE_REVISION
    on_copy = stamps(copy)
    assert len(on_copy) == 1 and "复制件 COPY" in on_copy[0] and COPIER in on_copy[0]
    assert str(grants[COPIER]) in on_copy[0]
    # Another format: a package holding the original and a manifest naming the same.
    assert package.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(package.content)) as z:
        manifest = json.loads(z.read("manifest.json"))
        assert z.read("回单.xml") == RECEIPT_XML
    assert manifest["sha256"] == hashlib.sha256(RECEIPT_XML).hexdigest() == xml
    assert COPIER in manifest["watermark"] and "复制件" in manifest["note"]
    assert [(e.data["action"], e.data["grant_id"]) for e in copied] == [
        ("copy", str(grants[COPIER])),
        ("copy", str(grants[COPIER])),
    ]
