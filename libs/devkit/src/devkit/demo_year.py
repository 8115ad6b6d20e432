"""The demo's whole year (②c, ②d): the ledgers, reports and bank statements of 2025 archived as
records of their own (第六条, 附表1), the year's completeness named gap by gap, and its handover
refused until the last statement arrives and a voided voucher number is waived."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from openpyxl import load_workbook

from contracts.events import GapWaived
from contracts.topics import GAPS_WAIVED, RECORDS_ARCHIVED
from devkit.identity import ERP, as_user
from devkit.samples import SAMPLES, material_upload
from devkit.stack import AUDITOR, LocalStack
from devkit.testing import open_gaps
from devkit.watch import EventWatcher, consumed, of_type
from servicekit.settings import PlatformSettings

ARCHIVIST, ACCOUNTANT, SUPERVISOR = "zhaomin", "lijing", "wangqiang"
# 记-0004 of April, numbered after a 记-0003 the ERP voided: the gap in 记字 numbering.
VOUCHER = "2025-04-ji-0004.json"
MATERIALS = [
    "2025-zongzhang",
    "2025-mingxizhang",
    "2025-rijizhang",
    "2025-nianbao",
    "2025-03-yuebao",
    "2025-04-yuebao",
    "2025-03-duizhangdan-1002",
    "gd-2019-0007",
]
LATE_STATEMENT = "2025-04-duizhangdan-1002"  # the bank's April statement, arriving late
NUMBERING_GAP = "2025-04/numbering/记/3-3"
STATEMENT_GAP = "2025-04/bank_statement/1002"
YEAR: dict[str, str | int] = {"fonds_code": "Q001", "fiscal_year": 2025}


def say(text: str = "") -> None:
    print(text, flush=True)


@dataclass
class YearOutcome:
    retention: dict[str, str] = field(default_factory=dict)  # 题名 → 保管期限 as archived
    gaps: list[str] = field(default_factory=list)  # open gaps, as first reported
    refused: str = ""  # why the first handover was refused
    handed_over: int = 0  # the second handover's status
    waived: list[str] = field(default_factory=list)  # the gaps the handover lists as waived
    unsupervised: int = 0  # accepting before the 监交人 confirmed
    handover_list: str = ""  # the 档号 of the 移交清册 kept as a record
    list_signed: list[str] = field(default_factory=list)  # its lines of the three confirmations
    list_files: list[str] = field(default_factory=list)  # its originals, as archived
    audited: list[str] = field(default_factory=list)  # the GapWaived entries of the audit log

    @property
    def as_expected(self) -> bool:
        return (
            self.retention.get("2025年度总账") == "30年"
            and self.retention.get("2025年度财务会计报告") == "永久"
            and self.gaps == [NUMBERING_GAP, STATEMENT_GAP]
            and NUMBERING_GAP in self.refused
            and STATEMENT_GAP in self.refused
            and self.handed_over == 201
            and self.unsupervised == 409
            and self.handover_list.startswith("Q001-2025-D30-QT-")
            and [line.split("（")[0] for line in self.list_signed] == ["移交人", "监交人", "接收人"]
            and sorted(name.rsplit(".", 1)[-1] for name in self.list_files) == ["pdf", "xlsx"]
            and self.waived == [NUMBERING_GAP]
            and self.audited == [NUMBERING_GAP]
        )


@dataclass(frozen=True)
class Demo:
    """What the demo's steps share: its HTTP client, the stack, the namespace, and a watch on
    RecordArchived."""

    http: httpx.AsyncClient
    stack: LocalStack
    platform: PlatformSettings
    watch: EventWatcher  # on RECORDS_ARCHIVED

    async def archived(self, r: httpx.Response) -> dict[str, Any]:
        """The record an accepted upload became, once the archive has archived it and the
        permission service (which decides who reads it) has heard of it."""
        r.raise_for_status()
        doc_id = r.json()["document_id"]
        await self.watch.wait_for(of_type("RecordArchived", record_id=doc_id), timeout=60)
        p = self.platform
        await consumed(p.kafka_bootstrap, p.namespace, "permission", [RECORDS_ARCHIVED])
        url = f"{self.stack.url('archive')}/v1/records/{doc_id}"
        kept = await self.http.get(url, headers=as_user(ARCHIVIST))
        kept.raise_for_status()
        return dict(kept.json())


def kept_for(record: dict[str, Any]) -> str:
    retention = record["retention"]
    if retention["permanent"]:
        return "永久"
    if retention["counted_from"] == "asset_disposal" and record["retention_until"] is None:
        return f"{retention['years']}年 after its disposal (held until then)"
    return f"{retention['years']}年"


async def story(demo: Demo) -> YearOutcome:
    out, http, stack, platform = YearOutcome(), demo.http, demo.stack, demo.platform
    ingest, archive = stack.url("ingest"), stack.url("archive")
    say(
        "\n②c 归档范围 — the year's books, reports and bank statements, each a record of its own "
        "(第六条), kept as long as 附表1 says"
    )
    voucher = (SAMPLES / "vouchers" / VOUCHER).read_bytes()
    r = await http.post(
        f"{ingest}/v1/vouchers",
        files=[("voucher", (VOUCHER, voucher, "application/json"))],
        headers=as_user(ERP),
    )
    kept = await demo.archived(r)
    v = kept["voucher"]
    say(f"   {v['voucher_no']}  {v['summary']}  → {kept['archive_code']} (the ERP voided 记-0003)")
    for name in MATERIALS:
        r = await http.post(
            f"{ingest}/v1/materials", files=material_upload(name), headers=as_user(ERP)
        )
        kept = await demo.archived(r)
        out.retention[kept["material"]["title"]] = kept_for(kept)
        say(f"   {kept['archive_code']:<26} {kept['material']['title']}  保管 {kept_for(kept)}")

    say("\n②d 齐全完整 · 移交 — is 2025 complete before the accounting department hands it over?")
    r = await http.get(f"{archive}/v1/completeness", params=YEAR, headers=as_user(ARCHIVIST))
    r.raise_for_status()
    gaps = open_gaps(r.json())
    out.gaps = [g["id"] for g in gaps]
    for g in gaps:
        say(f"   missing: {g['missing']}  ({g['basis']}; gap {g['id']})")
    offer = await http.post(
        f"{archive}/v1/handover-offers",
        json={**YEAR, "supervised_by": SUPERVISOR},
        headers=as_user(ACCOUNTANT),
    )
    offer.raise_for_status()
    offer_id = offer.json()["offer_id"]
    accept = {"offer_id": offer_id}
    r = await http.post(f"{archive}/v1/handovers", json=accept, headers=as_user(ARCHIVIST))
    out.unsupervised = r.status_code
    say(
        f"   {ACCOUNTANT} (移交人) offers 2025 naming {SUPERVISOR} as 监交人; {ARCHIVIST} accepts "
        f"at once: HTTP {r.status_code} {r.json()['detail']}"
    )
    r = await http.post(
        f"{archive}/v1/handover-offers/{offer_id}/supervision", headers=as_user(SUPERVISOR)
    )
    r.raise_for_status()
    say(f"   {SUPERVISOR} confirms it with their own sign-in (HandoverSupervised)")
    r = await http.post(f"{archive}/v1/handovers", json=accept, headers=as_user(ARCHIVIST))
    out.refused = str(r.json()["detail"])
    say(f"   {ARCHIVIST} (接收人) accepts: HTTP {r.status_code} {out.refused}")

    r = await http.post(
        f"{ingest}/v1/materials", files=material_upload(LATE_STATEMENT), headers=as_user(ERP)
    )
    kept = await demo.archived(r)
    say(f"   the bank's April statement arrives: {kept['archive_code']}")
    reason = "记-0003 于2025-04-30在ERP中作废，见作废凭证登记簿第12号"
    waiver = {**YEAR, "gaps": [NUMBERING_GAP], "reason": reason}
    r = await http.post(
        f"{archive}/v1/completeness/waivers", json=waiver, headers=as_user(ARCHIVIST)
    )
    r.raise_for_status()
    say(f"   {ARCHIVIST} waives {NUMBERING_GAP}: {reason} (GapWaived, on the audit trail)")
    r = await http.post(f"{archive}/v1/handovers", json=accept, headers=as_user(ARCHIVIST))
    out.handed_over = r.status_code
    if r.status_code == 201:
        handed = r.json()
        out.waived = [w["gap"] for w in handed["waived"]]
        say(
            f"   accepted again: HTTP 201, {len(handed['record_ids'])} records in "
            f"{handed['volumes']} volumes handed over; its 移交清册 lists the waived gap"
        )
        await _kept_list(demo, handed, out)
    else:
        say(f"   accepted again: HTTP {r.status_code} {json.dumps(r.json(), ensure_ascii=False)}")
    await consumed(platform.kafka_bootstrap, platform.namespace, "audit", [GAPS_WAIVED])
    r = await http.get(
        f"{stack.url('audit')}/v1/entries",
        params={"event_type": GapWaived.cloudevents_type()},
        headers=as_user(AUDITOR),
    )
    r.raise_for_status()
    entries = r.json()["items"]
    out.audited = [e["data"]["gap"] for e in entries]
    for e in entries:
        say(
            f"   the audit log keeps it: #{e['seq']} {e['event_type']} by {e['actor']}: "
            f"{e['data']['gap']}, {e['data']['reason']}"
        )
    return out


async def _kept_list(demo: Demo, handed: dict[str, Any], out: YearOutcome) -> None:
    """The handover's 移交清册, archived with it: its record, its files, the confirmations."""
    http, archive, platform = demo.http, demo.stack.url("archive"), demo.platform
    out.handover_list = handed["handover_list"]
    # Who reads it is decided once the permission service has heard of it too.
    await consumed(platform.kafka_bootstrap, platform.namespace, "permission", [RECORDS_ARCHIVED])
    r = await http.get(
        f"{archive}/v1/records/{handed['handover_list_record_id']}", headers=as_user(ARCHIVIST)
    )
    r.raise_for_status()
    kept = r.json()
    out.list_files = [f["filename"] for f in kept["originals"]]
    say(
        f"   its 移交清册 is archived as {out.handover_list} ({kept['retention']['years']}年): "
        f"{', '.join(out.list_files)}"
    )
    workbook = next(f for f in kept["originals"] if f["filename"].endswith(".xlsx"))
    r = await http.get(
        f"{archive}/v1/records/{kept['record_id']}/originals/{workbook['sha256']}",
        headers=as_user(ARCHIVIST),
    )
    r.raise_for_status()
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    rows = [[str(c) for c in row if c] for row in sheet.iter_rows(values_only=True)]
    out.list_signed = [" ".join(row) for row in rows if row and "（平台确认）" in row[0]]
    for line in out.list_signed:
        say(f"     {line}")
