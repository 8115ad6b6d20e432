"""The 第八条 report read from entries: each condition met with its evidence, or 未满足 naming
what is missing — nothing assumed that the trail does not show."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from audit.article8 import CONDITIONS, article_8
from contracts import events
from contracts.checkpoint import Checkpoint
from devkit.audit_fakes import Entries

CHECKPOINT = (Checkpoint("aap.local/audit", 7, b"\x00" * 32, datetime(2026, 12, 8, tzinfo=UTC)), "")


def entry(event: str, data: dict[str, Any], time: str = "2026-12-08T01:00:00Z") -> dict[str, Any]:
    fonds = [data["fonds_code"]] if "fonds_code" in data else []
    kind = getattr(events, event).cloudevents_type()  # each event's type as published now
    return {"event_type": kind, "data": data, "fonds_codes": fonds, "time": time}


def voucher(no: str, **sign_off: str) -> dict[str, str]:
    return {"voucher_no": no, "preparer": "张伟", "reviewer": "李娜", "approver": "王强"} | sign_off


def year(*extra: dict[str, Any]) -> Entries:
    """A fonds whose vouchers came from the ERP, signed off, archived, backed up and restored."""
    return Entries(
        entry(
            "DocumentIngested", {"fonds_code": "Q001", "submitted_by": "service-account-aap-erp"}
        ),
        entry(
            "RecordArchived",
            {
                "fonds_code": "Q001",
                "record_id": "r-1",
                "archive_code": "Q001-2025-D30-PZ-000001",
                "retention": {"permanent": False, "years": 30},
                "voucher": voucher("记-0001"),
            },
        ),
        entry("BackupTaken", {"backup_id": "b-1"}, "2026-12-07T20:00:00Z"),
        entry("RecordsRestored", {"backup_id": "b-1"}, "2026-12-07T21:00:00Z"),
        *extra,
    )


async def test_what_the_trail_shows_is_met_and_the_paper_register_is_named_missing() -> None:
    conditions = await article_8(year(), "Q001", CHECKPOINT)  # type: ignore[arg-type]
    status = {c.clause: c.met for c in conditions}
    assert list(status) == list(CONDITIONS)
    assert status == {"一": True, "二": True, "三": False, "四": True, "五": True, "六": True}
    sources, _, paper, tamper, backups, _ = conditions
    assert sources.evidence == (
        "service-account-aap-erp: 1 份，凭其令牌上传 (signed in at the IdP)",
    )
    assert paper.missing == (
        "no paper volume is registered: register where each is kept and which records it "
        "relates to (POST /v1/paper-volumes)"
    )
    assert "最新签名检查点：7 条，2026-12-08 00:00:00 UTC" in tamper.evidence[-1]
    assert backups.evidence == (
        "最近一次备份：2026-12-07T20:00:00Z（b-1）",
        "最近一次恢复演练：2026-12-07T21:00:00Z",
    )
    shown = paper.shown()
    assert (shown["clause"], shown["status"], shown["text"]) == (
        "（三）",
        "未满足",
        CONDITIONS["三"],
    )


async def test_a_condition_without_evidence_reads_unmet_naming_what_is_missing() -> None:
    permanent = entry(
        "RecordArchived",
        {
            "fonds_code": "Q001",
            "record_id": "r-2",
            "archive_code": "Q001-2025-Y-CW-000001",
            "retention": {"permanent": True},
            "voucher": voucher("记-0002", reviewer=""),
        },
    )
    conditions = await article_8(year(permanent), "Q001", None)  # type: ignore[arg-type]
    missing = {c.clause: c.missing for c in conditions if not c.met}
    assert missing["二"] == "vouchers without 经办/审核/审批: 记-0002"
    assert missing["四"] == "no signed checkpoint of the audit log yet"
    assert (
        missing["六"] == "1 records kept 永久 (Q001-2025-Y-CW-000001) have no paper copy registered"
    )
    nothing = await article_8(Entries(), "Q002", CHECKPOINT)  # type: ignore[arg-type]
    assert {c.clause: c.missing for c in nothing if not c.met} == {
        "一": "nothing of this fonds was brought in yet",
        "二": "no voucher of this fonds is archived yet",
        "三": nothing[2].missing,
        "五": "no backup taken; no restore drill made",
    }


async def test_a_document_ingested_before_its_version_2_counts_too() -> None:
    older = {
        "event_type": events.DocumentIngestedV1.cloudevents_type(),
        "data": {"fonds_code": "Q003", "submitted_by": "lijing"},
        "fonds_codes": ["Q003"],
        "time": "2024-01-05T01:00:00Z",
    }
    [sources, *_] = await article_8(Entries(older), "Q003", CHECKPOINT)  # type: ignore[arg-type]
    assert sources.met and sources.evidence == (
        "lijing: 1 份，凭其令牌上传 (signed in at the IdP)",
    )


async def test_the_paper_register_meets_the_retrieval_link_and_the_permanent_records_copies() -> (
    None
):
    """(三) the register relates paper volumes to records; (六) each 永久 record has its paper
    copy registered — and one without is named."""
    report = entry(
        "RecordArchived",
        {
            "fonds_code": "Q001",
            "record_id": "r-9",
            "archive_code": "Q001-2025-Y-BG-000001",
            "retention": {"permanent": True},
        },
    )
    copy = entry(
        "PaperVolumeRegistered",
        {
            "fonds_code": "Q001",
            "title": "2025年度财务会计报告（纸质）",
            "location": "档案室 A-03-2",
            "record_ids": ["r-9"],
        },
    )
    three, six = await _conditions(year(report, copy), "三", "六")
    assert three.met and "纸质：2025年度财务会计报告（纸质），存放于 档案室 A-03-2，关联 1 份" in (
        three.evidence
    )
    assert six.met and six.evidence == ("1 份永久保管的档案，1 份登记了纸质件",)
    later = entry("RecordArchived", {**report["data"], "record_id": "r-10",
                                     "archive_code": "Q001-2025-Y-BG-000002"})  # fmt: skip
    _, six = await _conditions(year(report, copy, later), "三", "六")
    assert (
        six.missing == "1 records kept 永久 (Q001-2025-Y-BG-000002) have no paper copy registered"
    )


async def _conditions(entries: Entries, *clauses: str) -> list[Any]:
    report = await article_8(entries, "Q001", CHECKPOINT)  # type: ignore[arg-type]
    return [c for c in report if c.clause in clauses]
