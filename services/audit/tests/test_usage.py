"""The usage register (利用登记簿) read from entries: a read under a borrowing grant shows its
purpose, its approver and the OA's approver trail."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from audit.usage import usage_register
from devkit.audit_fakes import Entries


async def test_a_read_under_a_grant_shows_its_purpose_approver_and_the_oas_trail() -> None:
    request, grant, record = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    step = {"oa_user_id": "manager75", "comment": "", "decided_at": None}
    decided = {
        "request_id": request,
        "decision": "approved",
        "approver": "wangqiang",
        "trail": [
            step | {"approver": "zhaomin", "decision": "redirected"},
            step | {"approver": "wangqiang", "decision": "approved"},
        ],
    }
    asked = {"request_id": request, "reason": "审计抽凭", "mode": "copy"}
    revoked = decided | {"decision": "revoked", "approver": "liuyang", "trail": []}
    store = Entries(
        {"event_type": "cn.aap.ApprovalRequested.v1", "data": asked},
        {"event_type": "cn.aap.ApprovalDecided.v2", "data": decided},
        # Revoked later: the register names who approved, not who revoked.
        {"event_type": "cn.aap.ApprovalDecided.v2", "data": revoked},
        {
            "event_type": "cn.aap.AccessGranted.v1",
            "data": {"grant_id": grant, "request_id": request},
        },
        {
            "event_type": "cn.aap.RecordsAccessed.v1",
            "fonds_codes": ["Q001"],
            "time": "2026-11-29T02:00:00Z",
            "data": {
                "accessed_at": "2026-11-29T02:00:00Z",
                "principal": "liuyang",
                "action": "copy",
                "record_ids": [record],
                "grant_id": grant,
            },
        },
    )
    since, until = datetime(2026, 11, 29, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)
    register = await usage_register(store, "Q001", since, until)  # type: ignore[arg-type]
    [row] = register.rows
    assert row[2:4] == ["复制 copy", "复制"]  # a copy handed out, under a 复制 borrowing
    assert row[5:7] == ["审计抽凭", "wangqiang"]
    assert row[-1] == "zhaomin 转交；wangqiang 同意"
