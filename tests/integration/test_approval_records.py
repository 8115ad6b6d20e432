"""Expense approvals finished in an OA (报销审批), archived as records of their own beside the
vouchers they justified, on the real servers: linked by invoice number whichever arrives first,
the voucher listed for the archivist while it waits, the approval trail in drill-through and in
a PDF that carries its own Chinese font."""

from __future__ import annotations

import io
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from archive.app import create_app as archive_app
from archive.domain.approval_record import approval_record_id
from archive.settings import ArchiveSettings, ExpectedApprovalsSetting
from contracts.checks import Stage, at
from contracts.envelope import EventData, new_event
from contracts.events import (
    BusinessKey,
    DocumentIngested,
    FormEntry,
    OaApprovalCompleted,
    OaStep,
)
from contracts.records import InvoiceRef
from contracts.topics import APPROVAL_RECORDS_LINKED, RECORDS_ACCESSED, RECORDS_ARCHIVED, source_of
from contracts.types import Money
from devkit.identity import as_user
from devkit.samples import ingested_document, store_files, voucher_summary
from devkit.send import EventSender
from devkit.testing import InProcessPermission, running
from devkit.watch import EventWatcher, of_type
from servicekit import s3
from servicekit.settings import PlatformSettings

FONDS = "E" + secrets.token_hex(3).upper()
ARCHIVIST, OUTSIDER = "zhaomin", "outsider"


def invoice_number() -> str:
    return "2544" + str(uuid.uuid4().int)[:16]


async def voucher(platform: PlatformSettings, invoice: str, summary: str) -> DocumentIngested:
    store = s3.ObjectStore(s3.connect(platform), platform.bucket_name("ingest-originals"))
    await store.ensure_bucket()
    files = await store_files(
        store,
        [
            ("voucher", "voucher.json", "application/json", f'{{"id": "{uuid.uuid4()}"}}'.encode()),
            ("attachment", "invoice.xml", "application/xml", b"<Invoice/>" + uuid.uuid4().bytes),
        ],
    )
    ref = InvoiceRef(
        invoice_number=invoice,
        seller_tax_id="91110105MA01ABCD2X",
        buyer_tax_id="91310115MA1K4XYZ0P",
        issue_date="2026-03-03",
        total=Money(amount="1280.00"),
        file_sha256=files[1].sha256,
    )
    return ingested_document(
        files,
        fonds_code=FONDS,
        fiscal_year=2026,
        voucher=voucher_summary(voucher_no=f"记-{secrets.randbelow(9999):04d}", summary=summary),
        invoices=(ref,),
    )


def expense_approval(invoice: str) -> OaApprovalCompleted:
    """As the approval service announces a WeCom 报销 approval approved and paid."""
    now = datetime.now(UTC)
    instance = f"2026{secrets.randbelow(10**12):012d}"
    return OaApprovalCompleted(
        approval_key=f"wecom|wwstandin|{instance}",
        oa_connection="weaver",
        vendor="wecom",
        corp_id="wwstandin",
        instance_id=instance,
        process_code="C4UE-EXPENSE",
        title="差旅费报销",
        fonds_code=FONDS,
        applicant="liuyang-oa",
        outcome="paid",
        form=(
            FormEntry(label="报销事由", value="北京出差差旅费"),
            FormEntry(label="报销金额", value="1280.00"),
            FormEntry(label="发票号码", value=invoice),
        ),
        trail=(
            OaStep(
                oa_user_id="manager75",
                principal="wangqiang",
                decision="approved",
                comment="同意",
                decided_at=now - timedelta(hours=2),
            ),
            OaStep(
                oa_user_id="caiwu01",
                principal="zhaomin",
                decision="approved",
                comment="票据齐全，准予报销",
                decided_at=now - timedelta(hours=1),
            ),
        ),
        business_keys=(BusinessKey(kind="invoice_number", value=invoice),),
        started_at=now - timedelta(days=1),
        finished_at=now,
    )


@pytest.fixture(scope="module")
async def archive(
    platform: PlatformSettings, permission: InProcessPermission
) -> AsyncIterator[httpx.AsyncClient]:
    await permission.assign((ARCHIVIST, "archivist", FONDS))
    # Every 报销 voucher of the fonds expects its approval record; listed at once if missing.
    expected = {FONDS: ExpectedApprovalsSetting(words=("报销",), wait_days=0)}
    settings = ArchiveSettings(approvals_expected=expected)
    async with running(archive_app(settings, permission.transport)) as http:
        yield http


async def announce(platform: PlatformSettings, data: EventData, producer: str) -> None:
    async with EventSender(platform.kafka_bootstrap, platform.namespace) as out:
        subject = str(getattr(data, "document_id", getattr(data, "approval_key", "")))
        await out.send(
            new_event(data, source=source_of(producer), subject=subject, correlation_id="c")
        )


def embedded_fonts(page: Any) -> list[str]:
    """How each font of a PDF page is carried: /FontFile2 (TrueType) when it is inside."""
    found = set()
    for font in page["/Resources"]["/Font"].values():
        descendant = font.get_object()["/DescendantFonts"][0].get_object()
        descriptor = descendant["/FontDescriptor"].get_object()
        found |= {k for k in descriptor if k.startswith("/FontFile")}
    return sorted(found)


async def awaiting(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    r = await http.get(
        "/v1/vouchers/awaiting-approval", params={"fonds_code": FONDS}, headers=as_user(ARCHIVIST)
    )
    assert r.status_code == 200, r.text
    return list(r.json())


async def test_an_approval_arriving_after_its_voucher_is_archived_beside_it(
    platform: PlatformSettings, archive: httpx.AsyncClient
) -> None:
    http, invoice = archive, invoice_number()
    doc = await voucher(platform, invoice, "报销北京出差差旅费")
    approval = expense_approval(invoice)
    approval_id = str(approval_record_id(approval.approval_key))
    topics = [RECORDS_ARCHIVED, APPROVAL_RECORDS_LINKED, RECORDS_ACCESSED]
    async with EventWatcher(platform.kafka_bootstrap, platform.namespace, topics) as watch:
        await announce(platform, doc, "ingest")
        await watch.wait_for(of_type("RecordArchived", record_id=str(doc.document_id)))

        # Its approval record has not come: the archivist's list says so, as a check item.
        [waiting] = await awaiting(http)
        assert waiting["record_id"] == str(doc.document_id)
        assert waiting["check"]["code"] == "AAP-APPROVAL-RECORD"
        assert waiting["check"]["outcome"] == "failed"
        assert waiting["summary"] == "报销北京出差差旅费"
        r = await http.get(
            "/v1/vouchers/awaiting-approval",
            params={"fonds_code": FONDS},
            headers=as_user(OUTSIDER),
        )
        assert r.status_code == 403  # another fonds' list is not theirs
        await watch.wait_for(
            of_type("RecordsAccessed", principal=ARCHIVIST)
        )  # the read is on record

        await announce(platform, approval, "approval")
        [linked] = await watch.wait_for(
            of_type("ApprovalRecordLinked", voucher_record_id=str(doc.document_id))
        )
        assert linked.data["approval_record_id"] == approval_id
        assert linked.data["key"] == {"kind": "invoice_number", "value": invoice}
        [archived] = await watch.wait_for(of_type("RecordArchived", record_id=approval_id))
        assert archived.data["category"] == "source_document"  # 原始凭证, kept 30 years
        assert archived.data["retention"]["years"] == 30
        # Its report lists every item of the archiving stage; intake's never ran on it, so it
        # is not 通过 (it once said 通过 with most of its table not run).
        listed = [c["code"] for c in archived.data["check_report"]]
        assert listed == [i.code for i in at(Stage.ARCHIVING)]
        conclusion = archived.data["check_conclusion"]
        assert conclusion["verdict"] == "incomplete" and "未执行" in conclusion["text"]
        assert await awaiting(http) == []  # no longer waiting

        # The same approval announced again (the OA resent it): still one record, one link.
        await announce(platform, approval, "approval")
        again = await watch.wait_for(of_type("RecordArchived", record_id=approval_id), count=2)
        assert again[0].id == again[1].id and again[0].data == again[1].data

    # Drill-through from the voucher: its approval record with form and trail.
    r = await http.get(f"/v1/records/{doc.document_id}/drill", headers=as_user(ARCHIVIST))
    assert r.status_code == 200, r.text
    [record] = r.json()["approval_records"]
    assert record["record_id"] == approval_id and record["outcome"] == "paid"
    assert [(s["principal"], s["comment"]) for s in record["trail"]] == [
        ("wangqiang", "同意"),
        ("zhaomin", "票据齐全，准予报销"),
    ]
    assert {"label": "发票号码", "value": invoice} in record["form"]
    # …and from the approval record back to its voucher.
    r = await http.get(f"/v1/records/{approval_id}/drill", headers=as_user(ARCHIVIST))
    assert r.status_code == 200, r.text
    assert [v["record_id"] for v in r.json()["vouchers"]] == [str(doc.document_id)]
    assert r.json()["oa_approval"]["instance_id"] == approval.instance_id

    # The record's PDF reads in Chinese, with its font inside it.
    originals = {f["filename"]: f for f in archived.data["originals"]}
    pdf = originals["审批单.pdf"]
    r = await http.get(
        f"/v1/records/{approval_id}/originals/{pdf['sha256']}", headers=as_user(ARCHIVIST)
    )
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    page = PdfReader(io.BytesIO(r.content)).pages[0]
    text = page.extract_text()
    for shown in ("差旅费报销", "北京出差差旅费", invoice, "票据齐全，准予报销", "已支付"):
        assert shown in text, shown
    assert embedded_fonts(page) == ["/FontFile2"]  # embedded, not merely named
    # The data as the OA reported it is kept too, byte for byte as announced.
    data = originals["approval.json"]
    r = await http.get(
        f"/v1/records/{approval_id}/originals/{data['sha256']}", headers=as_user(ARCHIVIST)
    )
    assert OaApprovalCompleted.model_validate_json(r.content) == approval


async def test_an_approval_arriving_before_its_voucher_is_linked_when_the_voucher_comes(
    platform: PlatformSettings, archive: httpx.AsyncClient
) -> None:
    http, invoice = archive, invoice_number()
    approval = expense_approval(invoice)
    approval_id = str(approval_record_id(approval.approval_key))
    doc = await voucher(platform, invoice, "报销上海会议费")
    other_fonds = (await voucher(platform, invoice_number(), "报销")).model_copy(
        update={"fonds_code": FONDS + "X"}
    )
    topics = [RECORDS_ARCHIVED, APPROVAL_RECORDS_LINKED]
    async with EventWatcher(platform.kafka_bootstrap, platform.namespace, topics) as watch:
        await announce(platform, approval, "approval")
        await watch.wait_for(of_type("RecordArchived", record_id=approval_id))
        await announce(platform, doc, "ingest")
        [linked] = await watch.wait_for(
            of_type("ApprovalRecordLinked", voucher_record_id=str(doc.document_id))
        )
        assert linked.data["approval_record_id"] == approval_id
        await watch.wait_for(of_type("RecordArchived", record_id=str(doc.document_id)))
        # A voucher of another fonds: archived, and nothing of this fonds links to it.
        await announce(platform, other_fonds, "ingest")
        await watch.wait_for(of_type("RecordArchived", record_id=str(other_fonds.document_id)))
    assert str(doc.document_id) not in [w["record_id"] for w in await awaiting(http)]
    r = await http.get(f"/v1/records/{doc.document_id}/drill", headers=as_user(ARCHIVIST))
    assert [a["record_id"] for a in r.json()["approval_records"]] == [approval_id]
