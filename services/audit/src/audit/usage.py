"""The usage register (利用登记簿) of a fonds and period, from the audit log: who read which
records, how and in which borrowing mode (查阅, 复制: 第十三条 has each use registered), for what
purpose and with whose approval.

Each read is a ``RecordsAccessed`` entry; a read under a borrowing grant finds its purpose and
approver through the grant (``AccessGranted``) to the request (``ApprovalRequested``: the
reason) and its decision (``ApprovalDecided``: the approver, and the OA's trail where the OA
reported one). Archive codes come from the
entries that archived the records (``RecordArchived``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from audit.domain.chain import iso
from audit.ports import LogStore, matching
from contracts.borrowing import mode_rule
from contracts.events import (
    AccessGranted,
    ApprovalDecided,
    ApprovalDecidedV1,
    ApprovalRequested,
    RecordArchived,
    RecordsAccessed,
)
from servicekit.exports import Cell, Register

ACTIONS = {
    "view": "查阅著录 description",
    "page": "查阅原件 page",
    "copy": "复制 copy",
    "download": "下载 download",
    "drill": "穿透 drill-through",
    "search": "检索 search",
    "register": "清册 register",
}
COLUMNS = [
    ("时间 Time (UTC)", 24),
    ("利用人 Reader", 16),
    ("方式 Action", 16),
    ("借阅方式 Mode", 12),
    ("档号 Archive codes", 44),
    ("利用目的 Purpose", 32),
    ("批准人 Approver", 12),
    ("授权 Grant", 38),
    ("地址 Address", 16),
    ("审批记录 OA trail", 40),
]
STEPS = {
    "approved": "同意",
    "rejected": "驳回",
    "redirected": "转交",
    "pending": "待审",
    "cancelled": "撤销",
}


async def _data_by(
    store: LogStore,
    event: str | list[str],
    field: str,
    values: Iterable[str],
    only: dict[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """The data of ``event`` entries (of any of the types, for a list) by their ``field``, for
    the given values."""
    wanted = sorted(set(values))
    if not wanted:
        return {}
    types = event if isinstance(event, str) else {"$in": event}
    filters = {"event_type": types, f"data.{field}": {"$in": wanted}, **(only or {})}
    return {str(e["data"][field]): e["data"] async for e in matching(store, filters)}


async def usage_register(
    store: LogStore, fonds_code: str, since: datetime, until: datetime
) -> Register:
    reads = [
        e
        async for e in matching(
            store,
            {
                "event_type": RecordsAccessed.cloudevents_type(),
                "fonds_codes": fonds_code,
                "time": {"$gte": iso(since), "$lt": iso(until)},
            },
        )
    ]
    grants = await _data_by(
        store,
        AccessGranted.cloudevents_type(),
        "grant_id",
        (r["data"]["grant_id"] for r in reads if r["data"].get("grant_id")),
    )
    request_ids = [g["request_id"] for g in grants.values()]
    asked = await _data_by(store, ApprovalRequested.cloudevents_type(), "request_id", request_ids)
    decided = await _data_by(
        store,
        [ApprovalDecided.cloudevents_type(), ApprovalDecidedV1.cloudevents_type()],
        "request_id",
        request_ids,
        only={"data.decision": "approved"},  # the approver, not who revoked it later
    )
    archived = await _data_by(
        store,
        RecordArchived.cloudevents_type(),
        "record_id",
        (i for r in reads for i in r["data"]["record_ids"]),
    )
    rows: list[list[Cell]] = []
    for r in reads:
        d = r["data"]
        request = grants.get(str(d.get("grant_id")), {}).get("request_id", "")
        codes = [archived.get(i, {}).get("archive_code", i) for i in d["record_ids"]]
        rows.append(
            [
                d["accessed_at"],
                d["principal"],
                ACTIONS.get(d["action"], d["action"]),
                mode_rule(asked[request].get("mode")).label if request in asked else "依职权",
                "、".join(codes),
                asked.get(request, {}).get("reason", "（依职权 by role）" if not request else ""),
                decided.get(request, {}).get("approver", ""),
                d.get("grant_id") or "",
                d.get("client_address") or "",
                _trail(decided.get(request, {})),
            ]
        )
    period = f"{since.date().isoformat()} – {until.date().isoformat()}"
    return Register(
        title="利用登记簿",
        heading=f"会计档案利用登记簿 全宗 {fonds_code} {period}",
        columns=COLUMNS,
        rows=rows,
    )


def _trail(decided: dict[str, Any]) -> str:
    """The OA's approver trail of the decision (会签, 或签 steps), as the OA reported it."""
    steps = decided.get("trail") or []
    return "；".join(f"{s['approver']} {STEPS.get(s['decision'], s['decision'])}" for s in steps)
