"""Every state the vendors send has a meaning, and the flow takes each once and in order."""

import pytest

from approval.domain.oa_states import (
    DINGTALK_CHANGE,
    FEISHU_STATUS,
    WECOM_SP_STATUS,
    Outcome,
    UnknownState,
    contrary,
    dingtalk_outcome,
    feishu_outcome,
    next_state,
    wecom_outcome,
)


def test_each_vendor_documented_state_has_its_outcome() -> None:
    # WeCom SpStatus 1 审批中, 2 已通过, 3 已驳回, 4 已撤销, 6 通过后撤销, 7 已删除, 10 已支付.
    assert set(WECOM_SP_STATUS) == {1, 2, 3, 4, 6, 7, 10}
    assert wecom_outcome(6) is Outcome.REVOKED and wecom_outcome(10) is Outcome.APPROVED
    assert set(FEISHU_STATUS) == {
        "PENDING",
        "APPROVED",
        "REJECTED",
        "CANCELED",
        "DELETED",
        "REVERTED",
        "OVERTIME_CLOSE",
        "OVERTIME_RECOVER",
    }
    assert feishu_outcome("REVERTED") is Outcome.REVOKED
    assert feishu_outcome("OVERTIME_CLOSE") is Outcome.EXPIRED
    assert dingtalk_outcome("finish", "agree") is Outcome.APPROVED
    assert dingtalk_outcome("finish", "refuse") is Outcome.REJECTED
    assert dingtalk_outcome("terminate", "refuse") is Outcome.CANCELLED  # result only on finish
    assert dingtalk_outcome("start", None) is Outcome.PENDING
    assert len(DINGTALK_CHANGE) == 4


def test_a_state_no_table_knows_is_refused_naming_it() -> None:
    with pytest.raises(UnknownState, match="WeCom SpStatus 5"):
        wecom_outcome(5)
    with pytest.raises(UnknownState, match="'TRANSFERRED'"):
        feishu_outcome("TRANSFERRED")
    with pytest.raises(UnknownState, match="'finish', None"):
        dingtalk_outcome("finish", None)


def test_late_and_repeated_events_change_nothing_and_a_withdrawal_after_approval_revokes() -> None:
    state = Outcome.PENDING
    for event, expected in [
        (Outcome.PENDING, None),  # still in progress
        (Outcome.APPROVED, Outcome.APPROVED),
        (Outcome.APPROVED, None),  # the vendor sent it twice
        (Outcome.PENDING, None),  # a late "in progress" after the approval
        (Outcome.REVOKED, Outcome.REVOKED),  # 通过后撤销: access withdrawn
        (Outcome.APPROVED, None),  # nothing reopens a revoked request
    ]:
        assert next_state(state, event) == expected, (state, event)
        state = expected or state
    # A withdrawal after approval takes access away, whatever the vendor calls it.
    for negative in (Outcome.CANCELLED, Outcome.REVOKED):
        assert next_state(Outcome.APPROVED, negative) is Outcome.REVOKED
    # A decision against the one taken is refused by rule: no vendor sends one, an OA's bug does.
    assert next_state(Outcome.APPROVED, Outcome.REJECTED) is None
    assert contrary(Outcome.APPROVED, Outcome.REJECTED)
    assert contrary(Outcome.REJECTED, Outcome.APPROVED)
    assert not contrary(Outcome.APPROVED, Outcome.PENDING)  # late, not contrary
    assert not contrary(Outcome.REVOKED, Outcome.CANCELLED)  # the withdrawal, said again
    # Final states stay final, but a timed-out approval can be taken up again.
    for final in (Outcome.REJECTED, Outcome.CANCELLED, Outcome.REVOKED):
        assert all(next_state(final, o) is None for o in Outcome)
    assert next_state(Outcome.EXPIRED, Outcome.PENDING) is Outcome.PENDING
    assert next_state(Outcome.EXPIRED, Outcome.APPROVED) is None
