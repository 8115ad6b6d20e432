"""The 第八条 report: whether a fonds' electronic accounting records may be kept in electronic
form only, condition by condition, each with the evidence the audit log holds for it. A
condition without evidence reads 未满足, naming what is missing.

会计档案管理办法 第八条: "同时满足下列条件的，单位内部形成的属于归档范围的电子会计资料可仅以电子形式
保存，形成电子会计档案：" — the six conditions of ``CONDITIONS``, as the 办法 words them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from audit.ports import LogStore, matching
from contracts.checkpoint import Checkpoint
from contracts.events import (
    BackupTaken,
    DocumentIngested,
    DocumentIngestedV1,
    IntegrityAlertRaised,
    OaApprovalCompleted,
    PaperVolumeRegistered,
    RecordArchived,
    RecordsRestored,
)

CONDITIONS: Mapping[str, str] = {
    "一": "形成的电子会计资料来源真实有效，由计算机等电子设备形成和传输",
    "二": "使用的会计核算系统能够准确、完整、有效接收和读取电子会计资料，能够输出符合国家标准"
    "归档格式的会计凭证、会计账簿、财务会计报表等会计资料，设定了经办、审核、审批等必要的审签程序",
    "三": "使用的电子档案管理系统能够有效接收、管理、利用电子会计档案，符合电子档案的长期保管要求，"
    "并建立了电子会计档案与相关联的其他纸质会计档案的检索关系",
    "四": "采取有效措施，防止电子会计档案被篡改",
    "五": "建立电子会计档案备份制度，能够有效防范自然灾害、意外事故和人为破坏的影响",
    "六": "形成的电子会计资料不属于具有永久保存价值或者其他重要保存价值的会计档案",
}
SIGN_OFF = ("preparer", "reviewer", "approver")  # 经办, 审核, 审批
# The versions of an event still read: a document ingested before its version 2 counts too.
OLDER: Mapping[type[Any], tuple[type[Any], ...]] = {
    DocumentIngested: (DocumentIngestedV1,),
    RecordArchived: (),
    OaApprovalCompleted: (),
    IntegrityAlertRaised: (),
    PaperVolumeRegistered: (),
}


@dataclass(frozen=True)
class Condition:
    clause: str  # 一 … 六
    evidence: tuple[str, ...]
    missing: str = ""  # what is missing; "" when the condition is met

    @property
    def met(self) -> bool:
        return not self.missing

    def shown(self) -> dict[str, Any]:
        return {
            "clause": f"（{self.clause}）",
            "text": CONDITIONS[self.clause],
            "status": "满足" if self.met else "未满足",
            "evidence": list(self.evidence),
            "missing": self.missing or None,
        }


async def article_8(
    store: LogStore, fonds_code: str, newest: tuple[Checkpoint, str] | None
) -> list[Condition]:
    """The six conditions for ``fonds_code``; ``newest``: the newest proven checkpoint."""
    ingested = await _data(store, DocumentIngested, fonds_code)
    archived = await _data(store, RecordArchived, fonds_code)
    approvals = await _data(store, OaApprovalCompleted, fonds_code)
    paper = await _data(store, PaperVolumeRegistered, fonds_code)
    return [
        _sources(ingested, approvals),
        _sign_off(archived),
        _paper_register(paper),
        await _tamper_protection(store, archived, fonds_code, newest),
        await _backups(store),
        _permanent(archived, paper),
    ]


async def _data(store: LogStore, event: type[Any], fonds_code: str) -> list[dict[str, Any]]:
    """The data of every entry of ``event`` (of each of its versions) about the fonds."""
    types = sorted({event.cloudevents_type(), *(v.cloudevents_type() for v in OLDER[event])})
    filters = {"event_type": {"$in": types}, "fonds_codes": fonds_code}
    return [e["data"] async for e in matching(store, filters)]


def _sources(ingested: list[dict[str, Any]], approvals: list[dict[str, Any]]) -> Condition:
    """(一): who brought each record in, as the IdP proved them (never a name typed)."""
    by = Counter(str(d.get("submitted_by") or "") for d in ingested)
    oas = Counter(f"{d['vendor']} / {d['oa_connection']}" for d in approvals)
    evidence = tuple(
        [
            f"{who}: {n} 份，凭其令牌上传 (signed in at the IdP)"
            for who, n in sorted(by.items())
            if who
        ]
        + [f"OA {oa}: {n} 份审批单，经签名回调或其 Kafka 主题" for oa, n in sorted(oas.items())]
    )
    if not ingested:
        return Condition("一", evidence, "nothing of this fonds was brought in yet")
    if by.get(""):
        return Condition("一", evidence, f"{by['']} documents name no authenticated principal")
    return Condition("一", evidence)


def _paper_register(paper: list[dict[str, Any]]) -> Condition:
    """(三): the register relating electronic records to the paper volumes kept beside them."""
    related = {r for v in paper for r in v["record_ids"]}
    evidence = (
        "每份电子会计档案按档号、全宗、年度、类别检索（GET /v1/records）",
        *(
            f"纸质：{v['title']}，存放于 {v['location']}，关联 {len(v['record_ids'])} 份"
            for v in paper
        ),
    )
    if not paper:
        return Condition(
            "三",
            evidence,
            "no paper volume is registered: register where each is kept and which records it "
            "relates to (POST /v1/paper-volumes)",
        )
    return Condition("三", (*evidence, f"共 {len(paper)} 卷，关联 {len(related)} 份电子档案"))


def _sign_off(archived: list[dict[str, Any]]) -> Condition:
    """(二): every voucher names who prepared, reviewed and approved it."""
    vouchers = [d["voucher"] for d in archived if d.get("voucher")]
    unsigned = [v["voucher_no"] for v in vouchers if not all(v.get(k) for k in SIGN_OFF)]
    evidence = (f"{len(vouchers)} 张记账凭证，每张载明经办、审核、审批",) if vouchers else ()
    if not vouchers:
        return Condition("二", evidence, "no voucher of this fonds is archived yet")
    if unsigned:
        return Condition("二", evidence, "vouchers without 经办/审核/审批: " + "、".join(unsigned))
    return Condition("二", evidence)


async def _tamper_protection(
    store: LogStore,
    archived: list[dict[str, Any]],
    fonds_code: str,
    newest: tuple[Checkpoint, str] | None,
) -> Condition:
    """(四): records under lock, the log chained and checkpointed, alerts on record."""
    alerts = await _data(store, IntegrityAlertRaised, fonds_code)
    evidence = [
        f"{len(archived)} 份档案的原件与元数据以对象锁（COMPLIANCE）保存至保管期满",
        f"审计日志逐条哈希链接；完整性告警 {len(alerts)} 条",
    ]
    if newest is None:
        return Condition("四", tuple(evidence), "no signed checkpoint of the audit log yet")
    checkpoint = newest[0]
    evidence.append(
        f"最新签名检查点：{checkpoint.size} 条，{_utc(checkpoint.time)}（GET /v1/verify 逐条核验）"
    )
    return Condition("四", tuple(evidence))


async def _backups(store: LogStore) -> Condition:
    """(五): the last backup taken, and the last restore drill."""
    taken = [e async for e in matching(store, {"event_type": BackupTaken.cloudevents_type()})]
    restored = [
        e async for e in matching(store, {"event_type": RecordsRestored.cloudevents_type()})
    ]
    evidence = []
    if taken:
        evidence.append(f"最近一次备份：{taken[-1]['time']}（{taken[-1]['data']['backup_id']}）")
    if restored:
        evidence.append(f"最近一次恢复演练：{restored[-1]['time']}")
    missing = [
        what
        for what, found in (("no backup taken", taken), ("no restore drill made", restored))
        if not found
    ]
    return Condition("五", tuple(evidence), "; ".join(missing))


def _permanent(archived: list[dict[str, Any]], paper: list[dict[str, Any]]) -> Condition:
    """(六): what is of permanent value is not kept electronically only: each 永久 record has a
    paper copy in the register."""
    on_paper = {str(r) for v in paper for r in v["record_ids"]}
    permanent = [d for d in archived if d["retention"].get("permanent")]
    bare = [d["archive_code"] for d in permanent if str(d["record_id"]) not in on_paper]
    evidence = (f"{len(permanent)} 份永久保管的档案，{len(permanent) - len(bare)} 份登记了纸质件",)
    if not bare:
        return Condition("六", evidence)
    return Condition(
        "六",
        evidence,
        f"{len(bare)} records kept 永久 ({'、'.join(bare[:5])}"
        f"{'…' if len(bare) > 5 else ''}) have no paper copy registered",
    )


def _utc(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")
