"""The main job, end to end, on the local stack (`make demo`):

every caller proves who it is with a token of the local Keycloak (a request without one, or
with a forged one, is refused); an ERP exports vouchers → ingest → archive; a borrower asks to
read one (查阅) and to copy another (复制) → the OA system approves by signed callback → the
borrower reads watermarked pages but may not download, and downloads a copy stamped as one whose
bank signature still verifies → the archivist reads the usage register, the auditor the trail and
verifies the chain; a borrower reading the trail, the system administrator
reading a record and the OA system publishing a decision itself are each refused. Then the
group's companies on 钉钉, 飞书 and 企业微信 (devkit.demo_vendors): a borrowing decided in each
vendor's OA by its own encrypted callback, one revoked after approval, and an expense claim
approved in WeCom archived beside its voucher.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.errors import TopicAuthorizationFailedError
from openpyxl import load_workbook
from PIL import Image
from pydantic import SecretStr

from contracts.oa_callback import signed_headers
from contracts.topics import (
    ACCESS_GRANTED,
    APPROVALS_DECIDED,
    CHECKPOINTS,
    PAPER_VOLUMES,
    RECORDS_ARCHIVED,
    OaConnection,
)
from contracts.trail import GENESIS_HASH, canonical, entry_hash
from contracts.types import utc_now
from devkit import demo_insider, demo_vendors, demo_year
from devkit.identity import (
    ERP,
    LOCAL_OA_USERS,
    as_user,
    forged_token,
    oa_callback_secret,
    tokens,
)
from devkit.kafka_access import client_env
from devkit.namespace import as_local_administrator, provision
from devkit.oa_standin import serving
from devkit.pki import BANK, amended, first_signature, local_trust, signed_once, stamps
from devkit.secretfile import local_dir
from devkit.sm2 import local_sm2_authority, sealed_once
from devkit.stack import ARCHIVIST, AUDITOR, LocalStack
from devkit.tax_standin import TAX_STANDIN_PORT, TaxPlatformStandIn
from devkit.watch import EventWatcher, consumed, of_type
from servicekit.auth import OidcSettings
from servicekit.kafka import client_options
from servicekit.settings import PlatformSettings

ROOT = Path(__file__).resolve().parents[4]
SAMPLES = ROOT / "samples"
UPLOADS = [
    ("2025-03-ji-0001.json", ["einvoice-25312000000012345678.xml"]),
    ("2025-03-ji-0002.json", ["einvoice-25312000000087654321.pdf"]),
    ("2025-03-ji-0003.json", ["bank-receipt-20250320-0004412.pdf"]),
]
SIGNED_RECEIPT = "bank-receipt-20250320-0004412.pdf"  # 记-0003's 银行电子回单, signed by the bank
# 记-0002 corrected in April: the red 注销 and the blue 订正, naming it as the ERP knows it.
CORRECTIONS = ["2025-04-ji-0001.json", "2025-04-ji-0002.json"]
BORROWER, OA_APPROVER, SYSTEM_ADMIN = "liuyang", "王强", "sysadmin"
HOTEL_FONDS = "Q005"  # the group's hotel company, which issued 记-0001's invoice
APPROVER = LOCAL_OA_USERS["seeyon"][OA_APPROVER]  # the platform principal the OA's 王强 is
# The OA system deciding for the sample fonds, and another company's (LOCAL_OA_ROUTES).
OA, OTHER_OA = "seeyon", "weaver"


def say(text: str = "") -> None:
    print(text, flush=True)


# Out of the caller's scope a record answers as if it did not exist (404); a right the caller
# lacks is refused (403).
EXPECTED_REFUSALS = {
    "a borrower reads the audit trail": 403,
    "the system administrator reads a record": 404,
}


# What a re-check of a record as kept performs and the demo expects passed: digests, the package
# file count and bytes, metadata.xml against its schema, readability, the virus re-scan, locks.
KEPT_AND_CHECKED = ("1-1", "2-1", "2-2", "2-3", "3-4", "4-2", "4-7")


@dataclass
class Outcome:
    """What the story found at each step: what a user of the demo checks."""

    archive_codes: list[str] = field(default_factory=list)
    rejected_status: int = 0
    resent_status: int = 0
    resent_same_document: bool = False
    duplicate_status: int = 0
    duplicate_message: str = ""
    printout_duplicate_status: int = 0  # the 数电票 PDF of 记-0002 booked on another voucher
    seller_side: tuple[int, str | None] = (0, None)  # the hotel's own side of 记-0001's invoice
    seller_seal: tuple[str, str] = ("", "")  # 1-1 of its OFD, sealed by the hotel: outcome, detail
    ofd_duplicate_status: int = 0  # 记-0001's invoice again, as the OFD the hotel also sent
    ofd_duplicate_message: str = ""
    printout_duplicate_message: str = ""
    printout_held: str = ""  # why 记-0002 (its invoice a PDF only) was held for review
    voided: str = ""  # …and what 查验 answered about that invoice: 作废
    printout_reviewed: int = 0
    signature_verified: str = ""  # 1-1 of 记-0003, its bank receipt signed by the bank
    tampered_status: int = 0  # the receipt changed after signing, on another voucher
    tampered_message: str = ""
    receipt: dict[str, Any] = field(default_factory=dict)  # 记-0003's receipt as read
    receipt_duplicate_status: int = 0  # the same receipt booked on another voucher
    receipt_duplicate_message: str = ""
    download_before_approval: int = 0
    forged_callback: int = 0
    other_oa_callback: int = 0
    genuine_callback: int = 0
    replayed_callback: int = 0
    view_download: int = 0  # the 查阅 borrower downloading the original
    view_page: str = ""  # the watermark on the page they were shown
    copy_verified: bool = False  # the 复制 copy: the bank's signature over the original verifies
    copy_stamp: str = ""  # …and the stamp marking it a copy
    trail: list[str] = field(default_factory=list)
    unauthenticated: dict[str, int] = field(default_factory=dict)  # what was tried → status
    refused: dict[str, int] = field(default_factory=dict)
    forged_decision: str = ""
    usage: list[list[str]] = field(default_factory=list)  # the borrower's usage register rows
    article8: dict[str, str] = field(default_factory=dict)  # 第八条's conditions → 满足/未满足
    corrections: list[str] = field(default_factory=list)  # the kinds 记-0002's drill shows
    offline_verified: int = -1  # the offline verifier's exit code on the export
    offline_altered: int = -1  # …and on a copy with one entry altered
    chain_ok: bool = False
    intake_checks: dict[str, str] = field(default_factory=dict)  # DA/T 70 code → outcome
    recheck: dict[str, str] = field(default_factory=dict)
    vendors: demo_vendors.VendorOutcome = field(default_factory=demo_vendors.VendorOutcome)
    insider: demo_insider.InsiderOutcome = field(default_factory=demo_insider.InsiderOutcome)
    year: demo_year.YearOutcome = field(default_factory=demo_year.YearOutcome)

    @property
    def as_expected(self) -> bool:
        return (
            len(self.archive_codes) == len(UPLOADS)
            and self.corrections == sorted(["注销", "订正"])
            and set(self.unauthenticated.values()) == {401}
            and self.refused == EXPECTED_REFUSALS
            and self.forged_decision.startswith("refused by the broker")
            and (self.rejected_status, self.duplicate_status) == (422, 422)
            and self.printout_duplicate_status == 422
            and self.seller_side == (202, "seller")
            and self.seller_seal[0] == "passed"
            and "发票专用章" in self.seller_seal[1]
            and self.ofd_duplicate_status == 422
            and "OFD's structured data" in self.ofd_duplicate_message
            and "重复入账" in self.printout_duplicate_message
            and "printout's text only" in self.printout_held
            and "查验 作废" in self.voided
            and self.printout_reviewed == 200
            and BANK in self.signature_verified
            and self.tampered_status == 422
            and "changed after" in self.tampered_message
            and self.receipt.get("side") == "payee"
            and self.receipt_duplicate_status == 422
            and "重复入账" in self.receipt_duplicate_message
            and (self.resent_status, self.resent_same_document) == (200, True)
            and self.download_before_approval == 404
            and (self.forged_callback, self.genuine_callback, self.replayed_callback)
            == (401, 200, 401)
            and self.other_oa_callback == 403
            and self.view_download == 403
            and BORROWER in self.view_page
            and self.copy_verified
            and "复制件" in self.copy_stamp
            and self.chain_ok
            and self.article8.get("（一）") == self.article8.get("（二）") == "满足"
            and self.article8.get("（三）") == self.article8.get("（六）") == "满足"
            and any("copy" in row[2] and row[6] == APPROVER for row in self.usage)
            and (self.offline_verified, self.offline_altered) == (0, 1)
            and "failed" not in self.intake_checks.values()
            and "failed" not in self.recheck.values()
            and all(self.recheck.get(code) == "passed" for code in KEPT_AND_CHECKED)
            and self.vendors.as_expected
            and self.insider.as_expected
            and self.year.as_expected
        )


def attachment(name: str) -> bytes:
    """A sample attachment as the demo sends it: the bank's e-receipt signed by the bank (the
    checkout's own CA stands in for the bank's, and ingest trusts it: devkit.pki)."""
    data = (SAMPLES / "attachments" / name).read_bytes()
    return signed_once(data, local_trust()) if name == SIGNED_RECEIPT else data


async def upload(
    http: httpx.AsyncClient,
    ingest: str,
    voucher: str,
    attachments: list[str],
    content: str | None = None,
    replaced: dict[str, bytes] | None = None,
) -> httpx.Response:
    """``replaced``: attachments sent with other bytes than the sample's (a forger's copy)."""
    data = content.encode() if content else (SAMPLES / "vouchers" / voucher).read_bytes()
    files = [("voucher", (voucher, data, "application/json"))]
    for a in attachments:
        bytes_ = (replaced or {}).get(a) or attachment(a)
        files.append(("attachments", (a, bytes_, "application/octet-stream")))
    return await http.post(f"{ingest}/v1/vouchers", files=files, headers=as_user(ERP))


def tax_platform() -> TaxPlatformStandIn:
    """What the tax platform knows of the demo's invoices: 记-0001's, the WeCom company's hotel
    invoice, and 记-0002's, which its seller has voided (作废)."""
    platform = TaxPlatformStandIn()
    platform.knows("25312000000012345678", "1280.00")
    platform.knows(demo_vendors.EXPENSE_INVOICE, "1280.00")
    platform.knows("25312000000087654321", "1000.00", "作废")
    return platform


async def story(stack: LocalStack, platform: PlatformSettings) -> Outcome:
    out = Outcome()
    async with (
        serving(tax_platform().app(), TAX_STANDIN_PORT),
        httpx.AsyncClient(timeout=30) as http,
        EventWatcher(
            platform.kafka_bootstrap,
            platform.namespace,
            [RECORDS_ARCHIVED, OaConnection(OA).requests, ACCESS_GRANTED, CHECKPOINTS],
        ) as watch,
    ):
        say("⓪ 身份 — who calls must prove it with a token of the platform's identity provider")
        url = f"{stack.url('archive')}/v1/records"
        brief, expires_at = tokens().brief(AUDITOR)  # shown refused once it has expired
        for tried, headers in {
            "no token": {},
            "only the old X-User header": {"X-User": AUDITOR},
            "a token signed by another key": {"Authorization": f"Bearer {forged_token(AUDITOR)}"},
        }.items():
            r = await http.get(url, headers=headers)
            out.unauthenticated[tried] = r.status_code
            say(f"   {tried}: HTTP {r.status_code} {r.json()['detail']}")

        say("\n① ERP 导出凭证入库 — the ERP sends three balanced vouchers with their attachments")
        await asyncio.to_thread(attachment, SIGNED_RECEIPT)  # signed once, off the loop
        doc_ids: list[str] = []
        for voucher, attachments in UPLOADS:
            r = await upload(http, stack.url("ingest"), voucher, attachments)
            r.raise_for_status()
            body = r.json()
            doc_ids.append(body["document_id"])
            v = body["voucher"]
            taken = "held for review" if body["review_required"] else "accepted"
            say(
                f"   {v['voucher_no']}  {v['summary']}  ¥{v['total']['amount']}  {taken}, "
                f"sha256 {body['files'][1]['sha256'][:12]}…  sm3 {body['files'][1]['sm3'][:12]}…"
            )
        report = body["check_report"]
        counts = {
            o: sum(1 for c in report if c["outcome"] == o)
            for o in ("passed", "failed", "not_performed", "not_applicable")
        }
        say(
            f"   四性检测 four-property check of 记-0003: {counts['passed']} passed, "
            f"{counts['failed']} failed, {counts['not_performed']} not performed, "
            f"{counts['not_applicable']} not applicable; "
            f"conclusion: {body['check_conclusion']['text']}"
        )
        out.signature_verified = next(c["detail"] for c in report if c["code"] == "1-1")
        say(
            f"   记-0003's bank e-receipt is a signed PDF, verified (1-1): {out.signature_verified}"
        )
        out.receipt = body["receipts"][0]
        say(
            f"   …its 银行电子回单 {out.receipt['number']} (¥{out.receipt['amount']['amount']}, "
            f"{out.receipt['payer_account']} → {out.receipt['payee_account']}) matches its "
            "银行存款 line: the company is its payee"
        )
        voucher, attachments = UPLOADS[2]
        other = json.loads((SAMPLES / "vouchers" / voucher).read_text(encoding="utf-8"))
        other["voucher_no"] = "记-0093"
        r = await upload(http, stack.url("ingest"), voucher, attachments, json.dumps(other))
        out.receipt_duplicate_status = r.status_code
        out.receipt_duplicate_message = "; ".join(
            p["message"] for p in r.json().get("problems", []) if "重复入账" in p["message"]
        )
        say(f"   记-0093 with the same receipt: HTTP {r.status_code}: "
            f"{out.receipt_duplicate_message}")  # fmt: skip
        other["voucher_no"] = "记-0096"
        stamped = amended(attachment(SIGNED_RECEIPT), "RMB 98,000.00")
        r = await upload(
            http, stack.url("ingest"), voucher, attachments, json.dumps(other),
            {SIGNED_RECEIPT: stamped},
        )  # fmt: skip
        out.tampered_status = r.status_code
        out.tampered_message = "; ".join(p["message"] for p in r.json().get("problems", []))
        say(
            f"   记-0096 with a copy of that receipt stamped with another amount after signing: "
            f"HTTP {r.status_code}: {out.tampered_message}"
        )
        r = await upload(http, stack.url("ingest"), "unbalanced.json", [])
        out.rejected_status = r.status_code
        problems = "; ".join(p["message"] for p in r.json()["problems"])
        say(f"   记-0099  rejected with HTTP {r.status_code}: {problems}")
        voucher, attachments = UPLOADS[0]
        r = await upload(http, stack.url("ingest"), voucher, attachments)
        out.resent_status = r.status_code
        out.resent_same_document = r.json().get("document_id") == doc_ids[0]
        say(
            f"   记-0001 sent again (an ERP retry): HTTP {r.status_code}, "
            f"answered with the document it made before: {out.resent_same_document}"
        )
        other = json.loads((SAMPLES / "vouchers" / voucher).read_text(encoding="utf-8"))
        other["voucher_no"] = "记-0098"  # another voucher booking the same e-invoice
        r = await upload(http, stack.url("ingest"), voucher, attachments, json.dumps(other))
        out.duplicate_status = r.status_code
        out.duplicate_message = "; ".join(p["message"] for p in r.json().get("problems", []))
        say(f"   记-0098 with the same e-invoice: HTTP {r.status_code}: {out.duplicate_message}")
        # The hotel is a company of the same group: it archives its own side of the invoice.
        sale = other | {
            "fonds_code": HOTEL_FONDS,
            "company_name": "北京国贸嘉华酒店管理有限公司",
            "voucher_no": "记-0031",
            "summary": "确认上海澄明科技有限公司客房收入",
            "entries": [
                {"summary": "客房收入", "account_code": "1122", "account_name": "应收账款—上海澄明",
                 "debit": "1280.00", "credit": "0"},
                {"summary": "客房收入", "account_code": "6001", "account_name": "主营业务收入",
                 "debit": "0", "credit": "1207.55"},
                {"summary": "销项税额", "account_code": "2221", "account_name": "应交税费—销项税额",
                 "debit": "0", "credit": "72.45"},
            ],
        }  # fmt: skip
        # …as the OFD it issued, sealed with its 发票专用章 (GB/T 38540, SM2; the checkout's SM2 CA
        # stands in for the seal's, and ingest trusts it: devkit.sm2).
        hotel_ofd = "einvoice-25312000000012345678.ofd"
        sealed = sealed_once(attachment(hotel_ofd), local_sm2_authority())
        r = await upload(
            http, stack.url("ingest"), voucher, [hotel_ofd], json.dumps(sale), {hotel_ofd: sealed}
        )
        out.seller_side = (r.status_code, (r.json().get("invoices") or [{}])[0].get("booked_by"))
        checks: list[dict[str, str]] = r.json().get("check_report", [])
        fixity: dict[str, str] = next((c for c in checks if c["code"] == "1-1"), {})
        out.seller_seal = (fixity.get("outcome", ""), fixity.get("detail", ""))
        say(
            f"   the hotel ({HOTEL_FONDS}, same group) archives its side of that invoice, the OFD "
            f"it sealed: HTTP {r.status_code}, booked by the {out.seller_side[1]}; 1-1 "
            f"{out.seller_seal[0]}: {out.seller_seal[1]}"
        )
        other["voucher_no"] = "记-0095"  # …and the same invoice as the OFD the hotel also sent
        ofd = "einvoice-25312000000012345678.ofd"
        r = await upload(http, stack.url("ingest"), voucher, [ofd], json.dumps(other))
        out.ofd_duplicate_status = r.status_code
        out.ofd_duplicate_message = "; ".join(p["message"] for p in r.json().get("problems", []))
        say(f"   记-0095 with its OFD (one invoice, one booking): HTTP {r.status_code}: "
            f"{out.ofd_duplicate_message}")  # fmt: skip
        voucher, attachments = UPLOADS[1]  # 记-0002: its 数电票 as a PDF only
        other = json.loads((SAMPLES / "vouchers" / voucher).read_text(encoding="utf-8"))
        other["voucher_no"] = "记-0097"
        r = await upload(http, stack.url("ingest"), voucher, attachments, json.dumps(other))
        out.printout_duplicate_status = r.status_code
        out.printout_duplicate_message = "; ".join(
            p["message"] for p in r.json().get("problems", [])
        )
        say(
            f"   记-0097 with 记-0002's 数电票 PDF: HTTP {r.status_code}: "
            f"{out.printout_duplicate_message}"
        )

        say(
            "\n② 归档 — the archive gives each an archive code (档号) and a retention period (保管期限)"
        )
        as_archivist = as_user(ARCHIVIST)
        for doc_id in doc_ids:
            # Archived by an earlier run of the demo (its uploads were answered with the
            # documents made then), or now: the record is there, or its event comes.
            kept = await http.get(
                f"{stack.url('archive')}/v1/records/{doc_id}", headers=as_archivist
            )
            if kept.status_code != 200:
                await watch.wait_for(of_type("RecordArchived", record_id=doc_id), timeout=60)
        # Who may read a record is decided once the permission service has heard of it too.
        await consumed(
            platform.kafka_bootstrap, platform.namespace, "permission", [RECORDS_ARCHIVED]
        )
        records = [
            (await http.get(f"{stack.url('archive')}/v1/records/{d}", headers=as_archivist)).json()
            for d in doc_ids
        ]
        out.archive_codes = [rec["archive_code"] for rec in records]
        for rec in records:
            years = rec["retention"]["years"]
            say(
                f"   {rec['archive_code']}  retention {years} years, until {rec['retention_until']}, "
                f"{len(rec['originals'])} originals under S3 COMPLIANCE lock"
            )

        # 记-0002's invoice is known from its PDF's text only, which anyone can edit, and 查验
        # found it voided (作废): held. The archivist sends it back to be corrected (April).
        printed = records[1]
        detail = {c["code"]: c["detail"] for c in printed["check_report"]}
        out.printout_held = detail["AAP-INVOICE-SOURCE"]
        out.voided = detail["AAP-INVOICE-VERIFIED"]
        say(f"   {printed['archive_code']} held for review: {out.printout_held}")
        say(f"   …and 查验 on the tax platform answered: {out.voided}")
        r = await http.post(
            f"{stack.url('archive')}/v1/records/{printed['record_id']}/review",
            json={"decision": "needs_correction", "note": "查验：发票已作废，4月红字冲销并订正"},
            headers=as_archivist,
        )
        out.printout_reviewed = r.status_code
        say(f"   the archivist sends it back to be corrected: HTTP {r.status_code}")

        target = records[0]
        out.intake_checks = {c["code"]: c["outcome"] for c in target["check_report"]}
        by_outcome = {
            o: [c for c, v in out.intake_checks.items() if v == o]
            for o in ("passed", "failed", "not_performed")
        }
        say(
            f"   四性检测 of {target['archive_code']} (intake and accession): "
            f"{len(by_outcome['passed'])} items passed, {len(by_outcome['failed'])} failed, "
            f"not performed: {', '.join(by_outcome['not_performed']) or 'none'}; "
            f"conclusion: {target['check_conclusion']['text']}"
        )
        r = await http.post(
            f"{stack.url('archive')}/v1/records/{target['record_id']}/recheck", headers=as_archivist
        )
        out.recheck = {c["code"]: c["outcome"] for c in r.json()["report"]}
        as_kept = {
            o: [c for c, v in out.recheck.items() if v == o]
            for o in ("passed", "failed", "not_performed", "not_applicable")
        }
        say(
            "   re-checked as kept now (长期保存, every item of the table): "
            f"passed {', '.join(as_kept['passed'])}; "
            f"failed: {', '.join(as_kept['failed']) or 'none'}; "
            f"not performed: {', '.join(as_kept['not_performed']) or 'none'}; "
            f"{len(as_kept['not_applicable'])} not applicable to what is kept"
        )

        demo = demo_year.Demo(http, stack, platform, watch)
        out.corrections = await corrections(demo, records[1])
        out.year = await demo_year.story(demo)

        original = next(f for f in target["originals"] if f["role"] == "attachment")
        download = f"{stack.url('archive')}/v1/records/{target['record_id']}/originals/{original['sha256']}"
        r = await http.get(download, headers=as_user(BORROWER))
        out.download_before_approval = r.status_code
        say(
            f"\n③ 借阅 — {BORROWER} cannot read {original['filename']} yet: HTTP {r.status_code}"
            " (out of their scope, it answers as if it did not exist)"
        )
        # The approval service names records on the OA's form as it learned them from
        # RecordArchived: a request waits until it has heard of what was just archived.
        await consumed(platform.kafka_bootstrap, platform.namespace, "approval", [RECORDS_ARCHIVED])
        # Two borrowings (第十三条): 查阅 of 记-0001, 复制 of 记-0003's signed bank receipt.
        receipt_record = records[2]
        receipt = next(f for f in receipt_record["originals"] if f["filename"] == SIGNED_RECEIPT)
        request_id, copy_request = (
            await _borrow(http, stack, target, "2025年度审计抽凭：核对差旅费报销", "view"),
            await _borrow(http, stack, receipt_record, "审计底稿：复制银行电子回单", "copy"),
        )
        [asked] = await watch.wait_for(of_type("ApprovalRequested", request_id=request_id))
        say(
            f"   查阅 (view) request {request_id[:8]}… and 复制 (copy) request {copy_request[:8]}… "
            f"filed; {OA}, the OA system deciding for fonds {target['fonds_code']}, received "
            f"{asked.type}"
        )

        say(
            f"\n④ OA 审批 — approver {OA_APPROVER} approves; the OA system calls back, signed (HMAC-SHA256)"
        )
        decision = _decision(request_id, "OA-2025-000731")
        callback = f"{stack.url('approval')}/v1/oa/decisions"
        # Another OA system's key, passed off as Seeyon's: each system signs for itself only.
        forged = signed_headers(OA, oa_callback_secret(OTHER_OA).encode(), decision)
        r = await http.post(callback, content=decision, headers=forged)
        out.forged_callback = r.status_code
        say(f"   signed with another OA's key:    HTTP {r.status_code} {r.json()['detail']}")
        # The other OA system, with its own key, for a request routed to Seeyon.
        other = signed_headers(OTHER_OA, oa_callback_secret(OTHER_OA).encode(), decision)
        r = await http.post(callback, content=decision, headers=other)
        out.other_oa_callback = r.status_code
        say(f"   the other OA system decides it:  HTTP {r.status_code} {r.json()['detail']}")
        headers = signed_headers(OA, oa_callback_secret(OA).encode(), decision)
        r = await http.post(callback, content=decision, headers=headers)
        out.genuine_callback = r.status_code
        say(f"   the OA system's callback:        HTTP {r.status_code} status={r.json()['status']}")
        r = await http.post(callback, content=decision, headers=headers)
        out.replayed_callback = r.status_code
        say(f"   the same callback replayed:      HTTP {r.status_code} {r.json()['detail']}")
        copy_decision = _decision(copy_request, "OA-2025-000732")
        secret = oa_callback_secret(OA).encode()
        r = await http.post(
            callback, content=copy_decision, headers=signed_headers(OA, secret, copy_decision)
        )
        say(
            f"   …and the 复制 request:            HTTP {r.status_code} status={r.json()['status']}"
        )

        [granted] = await watch.wait_for(of_type("AccessGranted", request_id=request_id))
        await watch.wait_for(of_type("AccessGranted", request_id=copy_request))
        say(
            f"\n⑤ 授权 — {BORROWER} may use both until {granted.data['valid_until']}, each as approved"
        )
        await _view_and_copy(http, stack, out, (target, original), (receipt_record, receipt))

        say("\n⑥ 审计 — the auditor's view of this record's trail")
        # The topics interleave, so the trail is shown in the order the events happened.
        trail = sorted(await _trail(http, stack.url("audit"), target["record_id"]), key=_time)
        out.trail = [e["event_type"].split(".")[-2] for e in trail]
        for e in trail:
            say(
                f"   #{e['seq']:<5} {e['time'][:23]}  {e['event_type'].split('.')[-2]:<18} "
                f"by {e['actor'] or '-':<10} via {e['source']}"
            )
        usage = await _usage(http, stack.url("audit"), target["fonds_code"])
        out.usage = [row for row in usage if row[1] == BORROWER]
        say(
            f"   利用登记簿 (usage register) of fonds {target['fonds_code']}, as its archivist "
            f"{ARCHIVIST} reads it, {BORROWER}'s rows:"
        )
        for row in out.usage:
            say(
                f"     {row[0][:19]}  {row[2]:<14} {row[3]:<4} {row[4][:26]:<26} "
                f"目的 {row[5]}  批准 {row[6]}"
            )
        v = (await http.get(f"{stack.url('audit')}/v1/verify", headers=as_user(AUDITOR))).json()
        verdict = "intact" if v["ok"] else f"BROKEN at entry {v['first_broken_seq']}: {v['reason']}"
        say(
            f"   chain verification: {v['entries_checked']} entries, {verdict}; head {v['head_hash'][:16]}…"
        )
        out.chain_ok = bool(v["ok"])
        await _paper_copy(http, stack, platform, target["fonds_code"])
        r = await http.get(
            f"{stack.url('audit')}/v1/compliance/article-8",
            params={"fonds_code": target["fonds_code"]},
            headers=as_user(AUDITOR),
        )
        r.raise_for_status()
        say(f"   第八条 — may fonds {target['fonds_code']} keep its records electronically only?")
        for c in r.json()["conditions"]:
            out.article8[c["clause"]] = c["status"]
            said = c["missing"] or (c["evidence"][0] if c["evidence"] else "")
            say(f"     {c['clause']} {c['status']}: {said}")

        say("\n⑦ 越权 — what each may not do is refused, with the reason")
        r = await http.get(f"{stack.url('audit')}/v1/entries", headers=as_user(BORROWER))
        out.refused["a borrower reads the audit trail"] = r.status_code
        say(f"   {BORROWER} reads the audit trail: HTTP {r.status_code} {r.json()['detail']}")
        record_url = f"{stack.url('archive')}/v1/records/{target['record_id']}"
        r = await http.get(record_url, headers=as_user(SYSTEM_ADMIN))
        out.refused["the system administrator reads a record"] = r.status_code
        say(
            f"   {SYSTEM_ADMIN} (系统管理员) reads a record: HTTP {r.status_code} {r.json()['detail']}"
        )
        r = await http.get(
            url, headers={"Authorization": f"Bearer {await expired(brief, expires_at)}"}
        )
        out.unauthenticated["an expired token"] = r.status_code
        say(f"   a real token of {AUDITOR}, expired: HTTP {r.status_code} {r.json()['detail']}")
        out.forged_decision = await forge_decision(platform, request_id)
        say(f"   the OA principal publishes an ApprovalDecided itself: {out.forged_decision}")

        say("\n⑧ 离线校验 — the auditor verifies an export on their own machine")
        await watch.wait_for(of_type("CheckpointPublished"), timeout=60)
        out.offline_verified, out.offline_altered, exported = await verify_offline(
            http, stack.url("audit")
        )
        out.insider = await demo_insider.story(platform, target["record_id"], exported)
    await demo_vendors.story(stack, platform, SAMPLES, out.vendors)
    return out


async def corrections(demo: demo_year.Demo, wrong: dict[str, Any]) -> list[str]:
    """A booked voucher corrected the accounting way (会计基础工作规范 第五十一条(五)): a red
    注销 and a blue 订正, each with its own 档号, linked both ways; the kinds the drill-through
    of the corrected record shows."""
    say(
        f"\n②b 更正 — {wrong['voucher']['voucher_no']} was booked to the wrong account: a red "
        "voucher cancels it (注销), a blue one books it again (订正)"
    )
    http, archive = demo.http, demo.stack.url("archive")
    for voucher in CORRECTIONS:
        r = await upload(http, demo.stack.url("ingest"), voucher, [])
        kept = await demo.archived(r)  # and the permission service has heard of it
        v, link = kept["voucher"], kept["corrects"]
        say(
            f"   {v['voucher_no']} of {v['voucher_date'][:7]}  ¥{v['total']['amount']}  "
            f"→ {kept['archive_code']}, {link['kind']} of {link['archive_code']}"
        )
    drilled = await http.get(
        f"{archive}/v1/records/{wrong['record_id']}/drill", headers=as_user(ARCHIVIST)
    )
    shown = drilled.json()["corrected_by"]
    say(
        f"   {wrong['archive_code']} is unchanged; its drill-through shows "
        + ", ".join(f"{c['kind']} {c['archive_code']}" for c in shown)
    )
    return sorted(c["kind"] for c in shown)


async def verify_offline(http: httpx.AsyncClient, audit: str) -> tuple[int, int, Path]:
    """Export the trail, keep the checkpoint it carries and the log's public key, and run the
    offline verifier as an auditor would; then on a copy with one entry altered (every hash
    after it recomputed). The verifier's exit codes, and the folder holding what it checked."""
    export = await http.get(f"{audit}/v1/export", headers=as_user(AUDITOR))
    key = await http.get(f"{audit}/v1/checkpoint/key", headers=as_user(AUDITOR))
    folder = Path(tempfile.mkdtemp(prefix="aap-trail-"))
    (folder / "trail.jsonl").write_bytes(export.content)
    (folder / "checkpoint.note").write_bytes(base64.b64decode(export.headers["X-AAP-Checkpoint"]))
    (folder / "log.key").write_text(key.json()["verifier_key"])
    entries = [json.loads(line) for line in export.content.splitlines()]
    entries[1]["actor"] = "someone else"  # who did it, rewritten
    prev = GENESIS_HASH
    for entry in entries:
        entry["prev_hash"] = prev
        entry["hash"] = prev = entry_hash(entry)
    (folder / "altered.jsonl").write_bytes(b"".join(canonical(e) + b"\n" for e in entries))
    codes = []
    for name in ("trail.jsonl", "altered.jsonl"):
        command = [sys.executable, "-m", "contracts.verify_trail", str(folder / name)]
        command += [
            "--key",
            str(folder / "log.key"),
            "--checkpoint",
            str(folder / "checkpoint.note"),
        ]
        say(
            f"   $ python -m contracts.verify_trail {name} --key log.key --checkpoint checkpoint.note"
        )
        done = await asyncio.to_thread(
            subprocess.run, command, capture_output=True, text=True, check=False
        )
        for line in done.stdout.splitlines():
            say(f"     {line}")
        codes.append(done.returncode)
    return codes[0], codes[1], folder


async def expired(token: str, expires_at: float) -> str:
    """``token``, once it is past its expiry and the validators' leeway for clock skew."""
    leeway = OidcSettings.model_fields["leeway_seconds"].default
    if (wait := expires_at + leeway + 1 - time.time()) > 0:
        say(f"   (waiting {wait:.0f} s for a real token to expire, past the {leeway} s leeway)")
        await asyncio.sleep(wait)
    return token


async def forge_decision(platform: PlatformSettings, request_id: str) -> str:
    """What the OA system could once do: write a decision straight to the topic the permission
    service grants from, as the principal it holds."""
    oa = client_env(OaConnection(OA).principal)
    as_oa = platform.model_copy(
        update={
            "kafka_username": oa["AAP_KAFKA_USERNAME"],
            "kafka_password": SecretStr(oa["AAP_KAFKA_PASSWORD"]),
        }
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=platform.kafka_bootstrap, acks="all", **client_options(as_oa)
    )
    forged = json.dumps({"type": "cn.aap.ApprovalDecided.v1", "request_id": request_id})
    try:
        await producer.start()
        await producer.send_and_wait(APPROVALS_DECIDED.name(platform.namespace), forged.encode())
        return "WRITTEN"
    except TopicAuthorizationFailedError:
        return "refused by the broker (TOPIC_AUTHORIZATION_FAILED)"
    finally:
        await producer.stop()


def _time(entry: dict[str, Any]) -> str:
    return str(entry["time"])


STORY = {
    "DocumentIngested",
    "RecordArchived",
    "ApprovalRequested",
    "ApprovalDecided",
    "AccessGranted",
}


async def _trail(http: httpx.AsyncClient, audit: str, record_id: str) -> list[dict[str, Any]]:
    """The record's audit entries, once every step of the story is in (audit reads 8 topics,
    which arrive in no set order between them)."""
    for _ in range(300):
        items: list[dict[str, Any]] = (
            await http.get(
                f"{audit}/v1/entries", params={"record_id": record_id}, headers=as_user(AUDITOR)
            )
        ).json()["items"]
        if {i["event_type"].split(".")[-2] for i in items} >= STORY:
            return items
        await asyncio.sleep(0.2)
    return items


async def _borrow(
    http: httpx.AsyncClient, stack: LocalStack, record: dict[str, Any], reason: str, mode: str
) -> str:
    """The borrower's request for ``record`` in ``mode``: its id."""
    r = await http.post(
        f"{stack.url('approval')}/v1/borrowing-requests",
        json={
            "fonds_code": record["fonds_code"],
            "record_ids": [record["record_id"]],
            "reason": reason,
            "days": 7,
            "mode": mode,
        },
        headers=as_user(BORROWER),
    )
    r.raise_for_status()
    return str(r.json()["request_id"])


def _decision(request_id: str, instance: str) -> bytes:
    """The OA's approval of a request, as its callback body."""
    decision = {
        "request_id": request_id,
        "decision": "approved",
        "approver": OA_APPROVER,
        "comment": "同意借阅7天",
        "oa_instance_id": instance,
        "decided_at": utc_now().isoformat(),
    }
    return json.dumps(decision, ensure_ascii=False).encode()


async def _view_and_copy(
    http: httpx.AsyncClient,
    stack: LocalStack,
    out: Outcome,
    viewed: tuple[dict[str, Any], dict[str, Any]],
    copied: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    """查阅: the download refused, a page shown watermarked; 复制: a copy marked as one whose
    bank signature still verifies. Both kept in .local/demo for the reader to open."""
    folder = local_dir() / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    (record, f), archive = viewed, f"{stack.url('archive')}/v1/records"
    url = f"{archive}/{record['record_id']}/originals/{f['sha256']}"
    r = await http.get(url, headers=as_user(BORROWER))
    out.view_download = r.status_code
    say(f"   查阅: downloading {f['filename']}: HTTP {r.status_code} {r.json()['detail']}")
    r = await http.get(f"{url}/pages/1", headers=as_user(BORROWER))
    r.raise_for_status()
    page = folder / f"查阅-{record['archive_code']}-p1.png"
    page.write_bytes(r.content)
    out.view_page = str(Image.open(io.BytesIO(r.content)).info.get("AAP-Watermark", ""))
    say(
        f"   查阅: page 1 of {r.headers['x-aap-page-count']} rendered, watermarked “{out.view_page}”"
    )
    say(f"         (kept in {page.relative_to(ROOT) if page.is_relative_to(ROOT) else page})")
    (record, f) = copied
    r = await http.get(
        f"{archive}/{record['record_id']}/originals/{f['sha256']}", headers=as_user(BORROWER)
    )
    r.raise_for_status()
    copy = folder / f"复制-{record['archive_code']}.pdf"
    copy.write_bytes(r.content)
    status = await first_signature(r.content, local_trust().authority())
    signed_part = hashlib.sha256(r.content[: f["size"]]).hexdigest() == f["sha256"]
    out.copy_verified = bool(status and status.intact and status.valid and status.trusted)
    out.copy_verified = out.copy_verified and signed_part
    out.copy_stamp = "; ".join(stamps(r.content))
    say(f"   复制: {f['filename']} as a copy stamped “{out.copy_stamp}”")
    say(
        f"         the bank's signature over the original revision verifies: {out.copy_verified} "
        f"(kept in {copy.relative_to(ROOT) if copy.is_relative_to(ROOT) else copy})"
    )


async def _paper_copy(
    http: httpx.AsyncClient, stack: LocalStack, platform: PlatformSettings, fonds: str
) -> None:
    """The archivist registers the paper copy of the 永久 annual report, and where it is kept
    (第八条(三)(六)); the audit log has it before the report is read."""
    r = await http.get(
        f"{stack.url('archive')}/v1/records",
        params={"fonds_code": fonds, "category": "annual_financial_report"},
        headers=as_user(ARCHIVIST),
    )
    r.raise_for_status()
    codes = [i["archive_code"] for i in r.json()["items"]]
    r = await http.post(
        f"{stack.url('archive')}/v1/paper-volumes",
        json={
            "fonds_code": fonds,
            "fiscal_year": 2025,
            "title": "2025年度财务会计报告（纸质，盖章签字）",
            "location": "档案室 A-01-1",
            "archive_codes": codes,
        },
        headers=as_user(ARCHIVIST),
    )
    r.raise_for_status()
    say(f"   {ARCHIVIST} registers the paper copy of {'、'.join(codes)}: 档案室 A-01-1")
    await consumed(platform.kafka_bootstrap, platform.namespace, "audit", [PAPER_VOLUMES])


async def _usage(http: httpx.AsyncClient, audit: str, fonds: str) -> list[list[str]]:
    """The usage register's rows as the fonds' archivist reads it, once it shows the borrower's
    copy with the purpose of the request and its approver (the audit log takes its events from
    several topics)."""
    now = datetime.now(UTC)
    period = {
        "since": (now - timedelta(days=1)).isoformat(),
        "until": (now + timedelta(days=1)).isoformat(),
    }
    rows: list[list[str]] = []
    for _ in range(300):
        r = await http.get(
            f"{audit}/v1/registers/usage.xlsx",
            params={"fonds_code": fonds, **period},
            headers=as_user(ARCHIVIST),
        )
        r.raise_for_status()
        sheet = load_workbook(io.BytesIO(r.content)).active
        assert sheet is not None
        rows = [[str(c or "") for c in row] for row in sheet.iter_rows(min_row=3, values_only=True)]
        if any(row[1] == BORROWER and "copy" in row[2] and row[5] and row[6] for row in rows):
            return rows
        await asyncio.sleep(0.2)
    return rows


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    # Each run gets a namespace of its own unless one is set: the same sample invoices would
    # otherwise be refused as duplicate bookings (重复入账) the second time, as they should be.
    os.environ.setdefault("AAP_NAMESPACE", f"demo-{datetime.now(UTC):%Y%m%d-%H%M%S}")
    as_local_administrator()
    platform = PlatformSettings()
    asyncio.run(provision(platform, platform.namespace))
    stack = LocalStack(ROOT / ".local" / "logs" / platform.namespace)
    say(f"starting the five services (namespace {platform.namespace!r}, logs in {stack.log_dir})")
    stack.start_all()
    try:
        ok = asyncio.run(story(stack, platform)).as_expected
    finally:
        stack.stop_all()
    say("\ndemo finished: " + ("every step as expected" if ok else "SOMETHING WAS WRONG"))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
