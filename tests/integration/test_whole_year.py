"""The whole 归档范围 (第六条) and a complete year, on the real servers: ledgers, reports, bank
statements and fixed-asset cards uploaded as materials and archived with 附表1's retention;
a year's completeness named gap by gap; its handover refused until complete or waived."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from archive.app import create_app as archive_app
from contracts.topics import ASSET_DISPOSALS, GAPS_WAIVED, HANDOVERS, RECORDS_ARCHIVED
from devkit.identity import ERP, as_user
from devkit.samples import material_upload, sample_voucher
from devkit.testing import InProcessPermission, open_gaps, running
from devkit.watch import EventWatcher, consumed, of_type
from ingest.app import create_app as ingest_app
from servicekit import s3
from servicekit.settings import PlatformSettings

FONDS = "Y" + secrets.token_hex(3).upper()
ARCHIVIST, ACCOUNTANT = "zhaomin", "lijing"
# What the year holds at first: every book and report, March's statement missing.
AT_FIRST = [
    "2025-zongzhang",
    "2025-mingxizhang",
    "2025-rijizhang",
    "2025-nianbao",
    "2025-03-yuebao",
]


def material(name: str, **changes: object) -> list[tuple[str, tuple[str, bytes]]]:
    """The sample material ``name`` as a multipart upload, in this test's fonds."""
    return material_upload(name, fonds_code=FONDS, **changes)


@pytest.fixture(scope="module")
async def year(
    platform: PlatformSettings, permission: InProcessPermission
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, dict[str, dict[str, Any]]]]:
    """The year 2025 of a fonds of its own: March's 记-0001 and 记-0003 (booking 银行存款 1002),
    its books and reports, a fixed-asset card; the records by name."""
    await permission.assign((ARCHIVIST, "archivist", FONDS), (ACCOUNTANT, "accountant", FONDS))
    async with (
        running(ingest_app(permission_transport=permission.transport)) as ingest,
        running(archive_app(permission_transport=permission.transport)) as archive,
        EventWatcher(platform.kafka_bootstrap, platform.namespace, [RECORDS_ARCHIVED]) as watch,
    ):
        uploads: dict[str, list[Any]] = {n: material(n) for n in [*AT_FIRST, "gd-2019-0007"]}
        for number in ("记-0001", "记-0003"):
            voucher = sample_voucher(fonds_code=FONDS, voucher_no=number, attachment_count=0)
            uploads[number] = [("voucher", ("v.json", voucher))]
        documents = {}
        for name, files in uploads.items():
            route = "/v1/vouchers" if name.startswith("记") else "/v1/materials"
            r = await ingest.post(route, files=files, headers=as_user(ERP))
            assert r.status_code == 202, r.text
            documents[name] = r.json()["document_id"]
        for document_id in documents.values():
            await watch.wait_for(of_type("RecordArchived", record_id=document_id), timeout=60)
        await consumed(
            platform.kafka_bootstrap, platform.namespace, "permission", [RECORDS_ARCHIVED]
        )
        records = {
            name: (await archive.get(f"/v1/records/{i}", headers=as_user(ARCHIVIST))).json()
            for name, i in documents.items()
        }
        yield ingest, archive, records


async def test_books_and_reports_are_archived_with_the_retention_of_their_kind(
    year: Any, platform: PlatformSettings
) -> None:
    _, archive, records = year
    ledger, annual = records["2025-zongzhang"], records["2025-nianbao"]
    assert ledger["archive_code"].startswith(f"{FONDS}-2025-D30-ZB-")
    assert ledger["retention"] == {
        "permanent": False,
        "years": 30,
        "counted_from": "fiscal_year_end",
    }
    assert ledger["retention_until"] == "2055-12-31"
    assert (
        annual["archive_code"].startswith(f"{FONDS}-2025-Y-BG-")
        and annual["retention_until"] is None
    )
    monthly = records["2025-03-yuebao"]
    assert monthly["retention"]["years"] == 10 and monthly["archive_code"].startswith(
        f"{FONDS}-2025-D10-BG-"
    )
    assert ledger["material"]["title"] == "2025年度总账" and ledger["voucher"] is None
    assert [f["role"] for f in ledger["originals"]] == ["description", "attachment"]
    assert ledger["check_conclusion"]["verdict"] == "passed", ledger["check_report"]
    # The package says what it is, without the database.
    store = s3.ObjectStore(s3.connect(platform), ledger["originals"][0]["bucket"])
    metadata = (await store.get(f"{ledger['archive_code']}/metadata.xml")).decode()
    assert "<题名>2025年度总账</题名>" in metadata
    assert "<责任者>上海澄明科技有限公司财务部</责任者>" in metadata
    assert "<起止期间>2025-01至2025-12</起止期间>" in metadata
    found = await archive.get(
        "/v1/records", params={"fonds_code": FONDS, "q": "总账"}, headers=as_user(ARCHIVIST)
    )
    assert [i["archive_code"] for i in found.json()["items"]] == [ledger["archive_code"]]


async def test_a_fixed_asset_card_is_held_until_its_disposal_then_kept_five_years(
    year: Any, platform: PlatformSettings
) -> None:
    _, archive, records = year
    card = records["gd-2019-0007"]
    assert card["retention"]["counted_from"] == "asset_disposal" and card["retention_until"] is None
    store = s3.ObjectStore(s3.connect(platform), card["originals"][0]["bucket"])

    async def lock(key: str) -> tuple[bool, Any]:
        held = await asyncio.to_thread(store.client.is_object_legal_hold_enabled, store.bucket, key)
        kept = await asyncio.to_thread(store.client.get_object_retention, store.bucket, key)
        return held, kept.retain_until_date if kept else None

    keys = [f["object_key"] for f in card["originals"]] + [f"{card['archive_code']}/metadata.xml"]
    metadata = (await store.get(f"{card['archive_code']}/metadata.xml")).decode()
    assert "<保管期限截止日期>报废清理后5年</保管期限截止日期>" in metadata  # never 永久
    assert [await lock(k) for k in keys] == [(True, None)] * len(keys)  # held, with no date

    url = f"/v1/records/{card['record_id']}/disposal"
    body = {"disposed_on": "2025-06-30"}
    assert (await archive.post(url, json=body, headers=as_user("outsider"))).status_code == 404
    assert (await archive.post(url, json=body, headers=as_user(ACCOUNTANT))).status_code == 403
    future = await archive.post(url, json={"disposed_on": "2999-01-01"}, headers=as_user(ARCHIVIST))
    assert future.status_code == 409 and "is in the future" in future.json()["detail"]
    async with EventWatcher(platform.kafka_bootstrap, platform.namespace, [ASSET_DISPOSALS]) as w:
        r = await archive.post(url, json=body, headers=as_user(ARCHIVIST))
        assert r.status_code == 201, r.text
        [fact] = await w.wait_for(of_type("AssetDisposalRecorded", record_id=card["record_id"]))
    assert (fact.data["asset_no"], fact.data["retention_until"]) == ("GD-2019-0007", "2030-12-31")
    assert fact.data["recorded_by"] == ARCHIVIST
    until = datetime(2031, 1, 1, tzinfo=UTC)
    assert [await lock(k) for k in keys] == [(False, until)] * len(keys)
    kept = (
        await archive.get(f"/v1/records/{card['record_id']}", headers=as_user(ARCHIVIST))
    ).json()
    assert kept["retention_until"] == "2030-12-31"
    assert kept["material"]["disposed_on"] == "2025-06-30"
    other = await archive.post(url, json={"disposed_on": "2025-07-01"}, headers=as_user(ARCHIVIST))
    assert other.status_code == 409 and "recorded already: 2025-06-30" in other.json()["detail"]
    not_a_card = f"/v1/records/{records['2025-zongzhang']['record_id']}/disposal"
    r = await archive.post(not_a_card, json=body, headers=as_user(ARCHIVIST))
    assert r.status_code == 409 and "is not a fixed-asset card" in r.json()["detail"]


async def completeness(archive: httpx.AsyncClient) -> dict[str, Any]:
    r = await archive.get(
        "/v1/completeness",
        params={"fonds_code": FONDS, "fiscal_year": 2025},
        headers=as_user(ACCOUNTANT),
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def open_ids(report: dict[str, Any]) -> list[str]:
    return [g["id"] for g in open_gaps(report)]


async def test_a_year_is_handed_over_complete_or_with_its_gaps_waived(
    year: Any, platform: PlatformSettings
) -> None:
    ingest, archive, _ = year
    report = await completeness(archive)
    assert [m["month"] for m in report["months"]] == [3]
    assert open_ids(report) == ["2025-03/numbering/记/2-2", "2025-03/bank_statement/1002"]
    [numbering, statement] = report["months"][0]["gaps"]
    assert numbering["missing"] == "记 numbers 0002 are missing (断号)"
    assert statement["missing"] == "银行对账单 of 1002 银行存款—工商银行浦东支行"
    outsider = await archive.get(
        "/v1/completeness",
        params={"fonds_code": FONDS, "fiscal_year": 2025},
        headers=as_user("outsider"),
    )
    assert outsider.status_code == 403

    offer = await archive.post(
        "/v1/handover-offers",
        json={"fonds_code": FONDS, "fiscal_year": 2025, "supervised_by": "wangqiang"},
        headers=as_user(ACCOUNTANT),
    )
    assert offer.status_code == 201, offer.text
    supervision = f"/v1/handover-offers/{offer.json()['offer_id']}/supervision"
    r = await archive.post(supervision, headers=as_user("wangqiang"))
    assert r.status_code == 201, r.text
    accept = {"offer_id": offer.json()["offer_id"]}
    refused = await archive.post("/v1/handovers", json=accept, headers=as_user(ARCHIVIST))
    assert refused.status_code == 409
    assert "incomplete: 2025-03/numbering/记/2-2" in refused.json()["detail"]
    assert "incomplete: 2025-03/bank_statement/1002" in refused.json()["detail"]

    # The bank's statement arrives; the missing number was voided in the ERP: waived.
    async with EventWatcher(platform.kafka_bootstrap, platform.namespace, [RECORDS_ARCHIVED]) as w:
        r = await ingest.post(
            "/v1/materials", files=material("2025-03-duizhangdan-1002"), headers=as_user(ERP)
        )
        assert r.status_code == 202, r.text
        await w.wait_for(of_type("RecordArchived", record_id=r.json()["document_id"]))
    assert open_ids(await completeness(archive)) == ["2025-03/numbering/记/2-2"]
    waiver = {
        "fonds_code": FONDS,
        "fiscal_year": 2025,
        "gaps": ["2025-03/numbering/记/2-2"],
        "reason": "记-0002 在 ERP 中作废，见作废凭证登记",
    }
    by_accountant = await archive.post(
        "/v1/completeness/waivers", json=waiver, headers=as_user(ACCOUNTANT)
    )
    assert by_accountant.status_code == 403  # the archive department accepts a year, not its own
    unknown = {**waiver, "gaps": ["2025-03/numbering/记/9-9"]}
    r = await archive.post("/v1/completeness/waivers", json=unknown, headers=as_user(ARCHIVIST))
    assert r.status_code == 404 and "has no gap 2025-03/numbering/记/9-9" in r.json()["detail"]
    async with EventWatcher(platform.kafka_bootstrap, platform.namespace, [GAPS_WAIVED]) as w:
        r = await archive.post("/v1/completeness/waivers", json=waiver, headers=as_user(ARCHIVIST))
        assert r.status_code == 201, r.text
        [waived] = await w.wait_for(of_type("GapWaived", fonds_code=FONDS))
    assert (waived.data["waived_by"], waived.data["reason"]) == (ARCHIVIST, waiver["reason"])
    report = await completeness(archive)
    assert report["complete"] and report["months"][0]["gaps"][0]["reason"] == waiver["reason"]

    async with EventWatcher(platform.kafka_bootstrap, platform.namespace, [HANDOVERS]) as w:
        r = await archive.post("/v1/handovers", json=accept, headers=as_user(ARCHIVIST))
        assert r.status_code == 201, r.text
        [handed] = await w.wait_for(
            of_type("RecordsHandedOver", handover_id=r.json()["handover_id"])
        )
    assert [g["gap"] for g in handed.data["waived"]] == ["2025-03/numbering/记/2-2"]
    register = await archive.get(
        "/v1/registers/handover.csv",
        params={"fonds_code": FONDS, "fiscal_year": 2025},
        headers=as_user(ARCHIVIST),
    )
    assert register.status_code == 200
    text = register.content.decode("utf-8-sig")
    assert "2025-03/numbering/记/2-2" in text and waiver["reason"] in text


async def test_the_same_material_again_is_answered_with_its_document_and_another_is_refused(
    year: Any,
) -> None:
    ingest, _, records = year
    again = await ingest.post(
        "/v1/materials", files=material("2025-zongzhang"), headers=as_user(ERP)
    )
    assert again.status_code == 200 and again.json()["status"] == "already_accepted"
    assert again.json()["document_id"] == records["2025-zongzhang"]["record_id"]
    other = await ingest.post(
        "/v1/materials",
        files=material("2025-zongzhang", title="2025年度总账（重印）"),
        headers=as_user(ERP),
    )
    assert other.status_code == 409
    assert records["2025-zongzhang"]["record_id"] in other.json()["problems"][0]["message"]
    no_account = await ingest.post(
        "/v1/materials",
        files=material("2025-03-duizhangdan-1002", bank_account=None),
        headers=as_user(ERP),
    )
    assert no_account.status_code == 422
    assert "bank_account names the account" in no_account.text
