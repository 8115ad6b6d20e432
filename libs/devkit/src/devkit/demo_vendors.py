"""`make demo`, part two: the group's companies whose OA is 钉钉, 飞书 or 企业微信.

A borrowing is started in each vendor's OA (its API stood in for on loopback: the SaaS cannot be
reached from here) and decided by that vendor's own callback, encrypted and signed with the
connection's keys as the vendor does: approved in DingTalk, approved in Feishu, approved and then
revoked after approval in WeCom (access withdrawn at once). The WeCom company's expense claim
(报销审批), approved and paid in WeCom, is archived as a record of its own beside the voucher it
justified; the auditor drills from the voucher to its invoice, the approval with its trail, and
the borrowings of it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from approval.vendors.feishu_crypt import FeishuCrypt
from approval.vendors.message_crypt import MessageCrypt
from contracts.topics import (
    ACCESS_GRANTED,
    ACCESS_REVOKED,
    APPROVAL_RECORDS_LINKED,
    APPROVALS_DECIDED,
    RECORDS_ARCHIVED,
)
from devkit import local_oa
from devkit.identity import ERP, as_user
from devkit.oa_callbacks import (
    dingtalk_change,
    dingtalk_post,
    feishu_event,
    feishu_post,
    sys_approval_change,
    wecom_post,
)
from devkit.oa_standin import Held, HeldStep, StandInVendors, serving
from devkit.stack import AUDITOR, LocalStack
from devkit.watch import EventWatcher, consumed, of_type
from servicekit.settings import PlatformSettings

BORROWER = "liuyang"
EXPENSE_INVOICE = "25312000000012349999"  # the WeCom company's own hotel invoice


def say(text: str = "") -> None:
    print(text, flush=True)


@dataclass
class VendorOutcome:
    granted: dict[str, str] = field(default_factory=dict)  # vendor → the approver who granted
    revoked_in_wecom: str = ""  # the reason AccessRevoked gives
    download_after_revocation: int = 0
    dingtalk_form: dict[str, str] = field(default_factory=dict)  # the form DingTalk was sent
    awaiting_before: list[str] = field(default_factory=list)  # vouchers waiting for approvals
    awaiting_after: list[str] = field(default_factory=list)
    linked_by: dict[str, str] = field(default_factory=dict)  # the link's key
    drilled: dict[str, Any] = field(default_factory=dict)  # the voucher's drill-through

    @property
    def as_expected(self) -> bool:
        trail = [
            s["principal"] for r in self.drilled.get("approval_records", []) for s in r["trail"]
        ]
        return (
            self.granted == {"dingtalk": "wangqiang", "feishu": "wangqiang", "wecom": "zhaomin"}
            and self.revoked_in_wecom == "withdrawn_in_oa"
            and self.download_after_revocation == 404
            and self.dingtalk_form.get("借阅档案", "").startswith("Q002-2025-D30-PZ-")
            and len(self.awaiting_before) == 1
            and self.awaiting_after == []
            and self.linked_by == {"kind": "invoice_number", "value": EXPENSE_INVOICE}
            and trail == ["wangqiang", "zhaomin"]
            and [i["invoice_number"] for i in self.drilled.get("invoices", [])] == [EXPENSE_INVOICE]
            and {a["decision"] for a in self.drilled.get("approvals", [])}
            >= {"approved", "revoked"}
        )


def standin() -> StandInVendors:
    """The vendors' APIs, accepting the local connections' app credentials."""
    k = local_oa.keys()
    return StandInVendors(
        dingtalk_app=(k["dingtalk_app_key"], k["dingtalk_app_secret"]),
        feishu_app=(k["feishu_app_id"], k["feishu_app_secret"]),
        wecom_corp=(k["wecom_corp_id"], k["wecom_app_secret"]),
    )


def voucher(fonds: str, number: str, base: dict[str, Any], **changes: Any) -> str:
    return json.dumps(
        base | {"fonds_code": fonds, "voucher_no": number} | changes, ensure_ascii=False
    )


async def upload(
    http: httpx.AsyncClient, ingest: str, content: str, attachments: list[tuple[str, bytes]]
) -> str:
    files = [("voucher", ("voucher.json", content.encode(), "application/json"))]
    files += [
        ("attachments", (name, data, "application/octet-stream")) for name, data in attachments
    ]
    r = await http.post(f"{ingest}/v1/vouchers", files=files, headers=as_user(ERP))
    r.raise_for_status()
    return str(r.json()["document_id"])


async def story(
    stack: LocalStack, platform: PlatformSettings, samples: Any, out: VendorOutcome
) -> VendorOutcome:
    vendors = standin()
    k = local_oa.keys()
    topics = [RECORDS_ARCHIVED, ACCESS_GRANTED, ACCESS_REVOKED, APPROVAL_RECORDS_LINKED]
    async with (
        serving(vendors.app(), local_oa.STANDIN_PORT),
        httpx.AsyncClient(timeout=30) as http,
        EventWatcher(platform.kafka_bootstrap, platform.namespace, topics) as watch,
    ):
        say(
            "\n⑨ 钉钉 · 飞书 · 企业微信 — the group's companies on the vendors' OAs "
            "(Q002, Q003, Q004)"
        )
        travel = json.loads((samples / "vouchers" / "2025-03-ji-0001.json").read_text("utf-8"))
        office = json.loads((samples / "vouchers" / "2025-03-ji-0002.json").read_text("utf-8"))
        invoice = (samples / "attachments" / "einvoice-25312000000012345678.xml").read_bytes()
        invoice = invoice.replace(b"25312000000012345678", EXPENSE_INVOICE.encode())
        plain = {"attachment_count": 0}
        ids = {
            "Q002": await upload(
                http, stack.url("ingest"), voucher("Q002", "记-0001", office, **plain), []
            ),
            "Q003": await upload(
                http, stack.url("ingest"), voucher("Q003", "记-0001", office, **plain), []
            ),
            "Q004": await upload(
                http,
                stack.url("ingest"),
                voucher("Q004", "记-0001", travel),
                [(f"einvoice-{EXPENSE_INVOICE}.xml", invoice)],
            ),
        }
        for doc_id in ids.values():
            await watch.wait_for(of_type("RecordArchived", record_id=doc_id), timeout=60)
        # Grants follow the permission service's knowledge of records, the OA form's names the
        # approval service's: both have heard of the three.
        for service in ("permission", "approval"):
            await consumed(
                platform.kafka_bootstrap, platform.namespace, service, [RECORDS_ARCHIVED]
            )
        say(
            "   each company's voucher archived: "
            + ", ".join(f"{f} {i[:8]}…" for f, i in ids.items())
        )

        async def borrow(fonds: str) -> dict[str, Any]:
            body = {
                "fonds_code": fonds,
                "record_ids": [ids[fonds]],
                "reason": "集团内审抽凭",
                "days": 7,
            }
            r = await http.post(
                f"{stack.url('approval')}/v1/borrowing-requests",
                json=body,
                headers=as_user(BORROWER),
            )
            r.raise_for_status()
            asked: dict[str, Any] = r.json()
            say(
                f"   {fonds}: borrowing request filed; started in {asked['oa_connection']}'s OA "
                f"as {asked['oa_instance_id']}"
            )
            return asked

        async def granted(asked: dict[str, Any], vendor: str) -> dict[str, Any]:
            [event] = await watch.wait_for(of_type("AccessGranted", request_id=asked["request_id"]))
            out.granted[vendor] = await _approver(http, stack, asked["request_id"])
            say(
                f"   {vendor}: access granted until {event.data['valid_until'][:19]}, approved by {out.granted[vendor]}"
            )
            return dict(event.data)

        callback = f"{stack.url('approval')}/v1/oa"
        # 钉钉: the approver's task, then the instance finished (agree): DingTalk's own encryption.
        asked = await borrow("Q002")
        ding = MessageCrypt(k["dingtalk_token"], k["dingtalk_aes_key"], k["dingtalk_app_key"])
        instance = asked["oa_instance_id"]
        process = local_oa.DINGTALK_BORROWING
        for event in (
            dingtalk_change("bpms_task_change", instance, process, type="finish", result="agree",
                            staffId="manager75", remark="同意借阅"),
            dingtalk_change("bpms_instance_change", instance, process, type="finish", result="agree"),
        ):  # fmt: skip
            post = dingtalk_post(ding, event)
            r = await http.post(
                f"{callback}/dingtalk/dingtalk", params=post.query, content=post.body
            )
            r.raise_for_status()
        await granted(asked, "dingtalk")
        [sent] = [s for s in vendors.started if s.instance_id == instance]
        out.dingtalk_form = {v["name"]: v["value"] for v in sent.body["formComponentValues"]}
        say(f"   the form DingTalk was sent: {out.dingtalk_form}")

        # 飞书: the task approved, then the instance APPROVED: Feishu's signature and AES-256.
        asked = await borrow("Q003")
        lark = FeishuCrypt(k["feishu_encrypt_key"])
        token = k["feishu_verification_token"]
        for event in (
            {"type": "approval_task", "status": "APPROVED", "user_id": "manager75"},
            {"type": "approval_instance", "status": "APPROVED"},
        ):
            payload = feishu_event(token, local_oa.FEISHU_BORROWING, asked["oa_instance_id"], event)
            post = feishu_post(lark, payload)
            r = await http.post(
                f"{callback}/feishu/feishu", headers=post.headers, content=post.body
            )
            r.raise_for_status()
        await granted(asked, "feishu")

        # 企业微信: approved, then 通过后撤销 (revoked after approval): access withdrawn at once.
        asked = await borrow("Q004")
        wecom = MessageCrypt(k["wecom_token"], k["wecom_aes_key"], k["wecom_corp_id"])
        sp_no, approved_by = asked["oa_instance_id"], ("caiwu01", 2, "同意")

        async def wecom_says(xml: str) -> None:
            post = wecom_post(wecom, xml)
            r = await http.post(f"{callback}/wecom/wecom", params=post.query, content=post.body)
            r.raise_for_status()

        await wecom_says(
            sys_approval_change(sp_no, local_oa.WECOM_BORROWING, 2, approved_by, change=2)
        )
        grant = await granted(asked, "wecom")
        await wecom_says(
            sys_approval_change(sp_no, local_oa.WECOM_BORROWING, 6, approved_by, change=8)
        )
        [revoked] = await watch.wait_for(of_type("AccessRevoked", grant_id=grant["grant_id"]))
        out.revoked_in_wecom = revoked.data["reason"]
        r = await http.get(
            f"{stack.url('archive')}/v1/records/{ids['Q004']}/drill", headers=as_user(BORROWER)
        )
        out.download_after_revocation = r.status_code
        say(f"   wecom: revoked after approval by the applicant in WeCom: AccessRevoked "
            f"({out.revoked_in_wecom}); {BORROWER} reading the record now: HTTP {r.status_code}")  # fmt: skip

        say(
            "\n⑩ 报销审批归档 — the expense claim approved and paid in WeCom, archived beside its voucher"
        )
        awaiting = f"{stack.url('archive')}/v1/vouchers/awaiting-approval"
        r = await http.get(awaiting, params={"fonds_code": "Q004"}, headers=as_user(AUDITOR))
        out.awaiting_before = [w["archive_code"] for w in r.json()]
        say(
            f"   vouchers waiting for their approval record (AAP-APPROVAL-RECORD): {out.awaiting_before}"
        )
        now = datetime.now(UTC)
        claim = vendors.hold(
            Held(
                vendor="wecom",
                process_code=local_oa.WECOM_EXPENSE,
                title="差旅费报销",
                applicant="liuyang-oa",
                form=(("报销事由", "市场部北京出差住宿"), ("报销金额", "1280.00"),
                      ("发票号码", EXPENSE_INVOICE)),
                steps=(HeldStep("manager75", "approved", "同意", now - timedelta(hours=3)),
                       HeldStep("caiwu01", "approved", "票据齐全，准予报销", now - timedelta(hours=1))),
                started_at=now - timedelta(days=1),
                paid=True,
            )
        )  # fmt: skip
        await wecom_says(sys_approval_change(claim, local_oa.WECOM_EXPENSE, 10, change=10))
        [linked] = await watch.wait_for(
            of_type("ApprovalRecordLinked", voucher_record_id=ids["Q004"]), timeout=60
        )
        out.linked_by = linked.data["key"]
        say(f"   approval record {linked.data['approval_archive_code']} archived (审批单.pdf with its "
            f"font, and the OA's data), linked to voucher {linked.data['voucher_archive_code']} "
            f"by {out.linked_by['kind']} {out.linked_by['value']}")  # fmt: skip
        r = await http.get(awaiting, params={"fonds_code": "Q004"}, headers=as_user(AUDITOR))
        # Drill-through shows the borrowings the archive has heard of: wait until it has.
        await consumed(platform.kafka_bootstrap, platform.namespace, "archive", [APPROVALS_DECIDED])
        out.awaiting_after = [w["archive_code"] for w in r.json()]
        r = await http.get(
            f"{stack.url('archive')}/v1/records/{ids['Q004']}/drill", headers=as_user(AUDITOR)
        )
        r.raise_for_status()
        out.drilled = r.json()
        say(f"   穿透 drill-through from voucher {out.drilled['record']['archive_code']}:")
        for i in out.drilled["invoices"]:
            say(f"     发票 {i['invoice_number']}  ¥{i['total']['amount']}")
        for a in out.drilled["approval_records"]:
            say(f"     审批单 {a['archive_code']}  {a['title']}  {a['outcome']}")
            for s in a["trail"]:
                say(
                    f"       {s['decided_at'][:16]}  {s['oa_user_id']} ({s['principal']})  {s['decision']}  {s['comment']}"
                )
        for b in out.drilled["approvals"]:
            say(
                f"     借阅 {b['request_id'][:8]}…  {b['decision']}  by {b['approver']}  for {b['applicant']}"
            )
    return out


async def _approver(http: httpx.AsyncClient, stack: LocalStack, request_id: str) -> str:
    """Who approved, as the borrower sees their request (decided before access was granted)."""
    url = f"{stack.url('approval')}/v1/borrowing-requests/{request_id}"
    r = await http.get(url, headers=as_user(BORROWER))
    return str(r.json()["approver"])
