"""What each OA vendor's approval states mean for a request, and which changes a request
takes: the vendors' documentation is the spec, one table per vendor and one for the flow.

"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """An OA approval's state as the platform reads it, whichever vendor sent it."""

    PENDING = "pending"  # 审批中: in progress (again)
    APPROVED = "approved"  # 已通过: grant access
    REJECTED = "rejected"  # 已驳回: no access
    CANCELLED = "cancelled"  # 已撤销 / 已删除 / 终止 before the end: the request is withdrawn
    REVOKED = "revoked"  # 通过后撤销 (WeCom 6, Feishu REVERTED): access withdrawn at once
    EXPIRED = "expired"  # 超时关闭: the approval timed out


class UnknownState(Exception):
    """A vendor state not in its table: refused, never guessed."""


# 企业微信 WeCom, sys_approval_change: SpStatus.
WECOM_SP_STATUS: dict[int, Outcome] = {
    1: Outcome.PENDING,  # 审批中
    2: Outcome.APPROVED,  # 已通过
    3: Outcome.REJECTED,  # 已驳回
    4: Outcome.CANCELLED,  # 已撤销
    6: Outcome.REVOKED,  # 通过后撤销
    7: Outcome.CANCELLED,  # 已删除
    10: Outcome.APPROVED,  # 已支付: approved, then paid
}

# 飞书 Feishu, approval_instance: status.
FEISHU_STATUS: dict[str, Outcome] = {
    "PENDING": Outcome.PENDING,
    "APPROVED": Outcome.APPROVED,
    "REJECTED": Outcome.REJECTED,
    "CANCELED": Outcome.CANCELLED,
    "DELETED": Outcome.CANCELLED,
    "REVERTED": Outcome.REVOKED,
    "OVERTIME_CLOSE": Outcome.EXPIRED,
    "OVERTIME_RECOVER": Outcome.PENDING,  # taken up again after the time-out
}

# 钉钉 DingTalk, bpms_instance_change: (type, result); a result only where type is "finish".
DINGTALK_CHANGE: dict[tuple[str, str | None], Outcome] = {
    ("start", None): Outcome.PENDING,
    ("finish", "agree"): Outcome.APPROVED,
    ("finish", "refuse"): Outcome.REJECTED,
    ("terminate", None): Outcome.CANCELLED,
}


def wecom_outcome(sp_status: int) -> Outcome:
    return _looked_up(WECOM_SP_STATUS, sp_status, "WeCom SpStatus")


def feishu_outcome(status: str) -> Outcome:
    return _looked_up(FEISHU_STATUS, status, "Feishu approval status")


def dingtalk_outcome(change_type: str, result: str | None) -> Outcome:
    key = (change_type, result if change_type == "finish" else None)
    return _looked_up(DINGTALK_CHANGE, key, "DingTalk bpms_instance_change (type, result)")


def _looked_up(table: Mapping[Any, Outcome], key: object, what: str) -> Outcome:
    if key not in table:
        raise UnknownState(f"{what} {key!r} is not one this platform knows: refused")
    return table[key]


# The flow: from a request's state, what each outcome does. Missing: nothing changes (a late
# or repeated event: a "pending" after "approved", a second "approved").
TRANSITIONS: dict[tuple[Outcome, Outcome], Outcome] = {
    **{(Outcome.PENDING, o): o for o in Outcome if o is not Outcome.PENDING},
    # After approval only a withdrawal counts, and any of them takes access away at once.
    (Outcome.APPROVED, Outcome.REVOKED): Outcome.REVOKED,
    (Outcome.APPROVED, Outcome.CANCELLED): Outcome.REVOKED,
    # An approval that timed out can be taken up again (Feishu OVERTIME_RECOVER).
    (Outcome.EXPIRED, Outcome.PENDING): Outcome.PENDING,
}


def next_state(current: Outcome, outcome: Outcome) -> Outcome | None:
    """The request's new state, or None: the event changes nothing."""
    return TRANSITIONS.get((current, outcome))


def contrary(current: Outcome, outcome: Outcome) -> bool:
    """Whether an outcome the flow does not take contradicts the state (a rejection after the
    approval, an approval after the rejection) rather than repeating it or arriving late."""
    late = outcome in (current, Outcome.PENDING) or (
        current is Outcome.REVOKED and outcome is Outcome.CANCELLED
    )
    return next_state(current, outcome) is None and not late
