import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from approval.domain.borrowing import (
    BorrowingRequest,
    Decision,
    DecisionConflict,
    NotRoutedHere,
    RequestStatus,
    SelfApproval,
)
from approval.domain.form_profile import BUILT_IN, NotThisProfile, load_profiles, read_decision
from approval.domain.oa_callback import CallbackRejected, verify
from approval.domain.oa_states import Outcome
from approval.domain.routing import NoRoute, OaRoutes
from contracts.oa_callback import sign, signed_headers

NOW = datetime(2025, 3, 5, 1, 0, tzinfo=UTC)
SECRET = b"s3cret"


def request() -> BorrowingRequest:
    return BorrowingRequest(
        request_id=uuid.uuid4(),
        applicant="liuyang",
        fonds_code="Q001",
        oa_connection="seeyon",
        record_ids=(uuid.uuid4(),),
        reason="审计抽凭",
        days=7,
        mode="view",
        requested_at=NOW,
    )


def decision(r: BorrowingRequest, verdict: str = "approved") -> Decision:
    return Decision(r.request_id, "seeyon", Outcome(verdict), "王强", "同意", "OA-1", NOW)


def test_approval_grants_access_for_the_requested_days() -> None:
    r = request().decide(decision(request()))
    assert r.status is RequestStatus.APPROVED
    decided = r.decided()
    assert decided.decision == "approved"
    assert decided.access_until == NOW + timedelta(days=7)
    assert decided.fonds_code == "Q001"  # the grant covers this fonds' records only


def test_rejection_grants_nothing() -> None:
    r = request()
    decided = r.decide(decision(r, "rejected")).decided()
    assert decided.decision == "rejected" and decided.access_until is None


def test_the_same_decision_twice_changes_nothing_and_a_contrary_one_is_refused() -> None:
    r = request()
    approved = r.decide(decision(r))
    assert approved.decide(decision(r)) is approved
    with pytest.raises(DecisionConflict, match="already approved"):
        approved.decide(decision(r, "rejected"))


def _check(headers: dict[str, str], body: bytes, now: float, secret: bytes = SECRET) -> None:
    verify(
        {"seeyon": secret},
        key_id=headers.get("X-AAP-Key-Id"),
        timestamp=headers.get("X-AAP-Timestamp"),
        nonce=headers.get("X-AAP-Nonce"),
        signature=headers.get("X-AAP-Signature"),
        body=body,
        now=now,
    )


def test_a_correctly_signed_recent_callback_passes() -> None:
    body = '{"decision":"approved","comment":"同意"}'.encode()
    _check(signed_headers("seeyon", SECRET, body, now=1_700_000_000), body, now=1_700_000_100)


def test_forged_tampered_stale_and_incomplete_callbacks_are_rejected() -> None:
    body = b'{"decision":"approved"}'
    good = signed_headers("seeyon", SECRET, body, now=1_700_000_000)
    with pytest.raises(CallbackRejected, match="signature does not match"):
        _check(good, body, 1_700_000_000, secret=b"other")
    with pytest.raises(CallbackRejected, match="signature does not match"):
        _check(good, b'{"decision":"rejected"}', 1_700_000_000)
    with pytest.raises(CallbackRejected, match="301 s off"):
        _check(good, body, 1_700_000_301)
    with pytest.raises(CallbackRejected, match="missing"):
        _check({k: v for k, v in good.items() if k != "X-AAP-Nonce"}, body, 1_700_000_000)
    # Another OA system's key id: its key, not this one, would have to have signed.
    with pytest.raises(CallbackRejected, match="unknown key id"):
        _check({**good, "X-AAP-Key-Id": "weaver"}, body, 1_700_000_000)
    short = {**good, "X-AAP-Nonce": "abc"}
    short["X-AAP-Signature"] = sign(SECRET, "seeyon", good["X-AAP-Timestamp"], "abc", body)
    with pytest.raises(CallbackRejected, match="8 to 128"):
        _check(short, body, 1_700_000_000)


def test_a_signature_of_characters_beyond_ascii_is_refused_not_a_crash() -> None:
    """Found by fuzzing: a header may hold any Latin-1 character; comparing such a signature as
    text raised TypeError, a 500 for a forged callback instead of its 401."""
    headers = signed_headers("seeyon", SECRET, b"{}", now=NOW.timestamp())
    with pytest.raises(CallbackRejected, match="signature does not match"):
        verify(
            {"seeyon": SECRET},
            key_id="seeyon",
            timestamp=headers["X-AAP-Timestamp"],
            nonce=headers["X-AAP-Nonce"],
            signature="sha256=\x80",
            body=b"{}",
            now=NOW.timestamp(),
        )


def test_nobody_approves_their_own_borrowing() -> None:
    r = request()
    own = Decision(r.request_id, "seeyon", Outcome.APPROVED, r.applicant, "同意", "OA-2", NOW)
    with pytest.raises(SelfApproval, match=r"liuyang applied for request .* may not approve"):
        r.decide(own)
    # Declining one's own request (withdrawing it) is no conflict of interest.
    withdrawn = Decision(r.request_id, "seeyon", Outcome.REJECTED, r.applicant, "撤回", "OA-2", NOW)
    assert r.decide(withdrawn).status is RequestStatus.REJECTED


def test_only_the_oa_system_the_request_was_routed_to_decides_it() -> None:
    r = request()
    other = replace(decision(r), oa_connection="weaver")
    with pytest.raises(NotRoutedHere, match="routed to OA system seeyon; weaver may not decide"):
        r.decide(other)
    assert r.decide(decision(r)).status is RequestStatus.APPROVED


def test_requests_are_routed_by_fonds_and_the_rest_to_the_default() -> None:
    routes = OaRoutes({"Q001": "seeyon", "*": "weaver"})
    assert routes.connection_for("Q001") == "seeyon"
    assert routes.connection_for("Q777") == "weaver"
    with pytest.raises(NoRoute, match="no OA system decides borrowing for fonds Q777"):
        OaRoutes({"Q001": "seeyon"}).connection_for("Q777")


def e9_form(request_id: uuid.UUID, src: str = "submit", **over: object) -> bytes:
    """What an e-cology E9 flow node's interface action posts (its main table, the operator)."""
    form: dict[str, object] = {
        "requestid": "2025030500731",
        "workflowid": "88",
        "requestname": "档案借阅申请-刘洋-2025-03-05",
        "nodename": "财务经理审批",
        "src": src,
        "remark": "同意借阅7天",
        "operator": {"loginid": "wangqiang", "lastname": "王强"},
        "operatedate": "2025-03-05",
        "operatetime": "09:30:00",
        "mainTable": {"aap_request_id": str(request_id), "jyts": "7", "jysy": "审计抽凭"},
    }
    form.update(over)
    return json.dumps(form, ensure_ascii=False).encode()


def test_an_e9_form_reads_as_a_decision_through_its_profile() -> None:
    profile = load_profiles(BUILT_IN)["weaver-e9"]
    r = request()
    d = read_decision(profile, e9_form(r.request_id))
    assert (d.request_id, d.outcome, d.approver) == (r.request_id, Outcome.APPROVED, "wangqiang")
    assert (d.comment, d.oa_instance_id) == ("同意借阅7天", "2025030500731")
    assert d.decided_at.astimezone(UTC) == datetime(2025, 3, 5, 1, 30, tzinfo=UTC)  # 北京时间
    assert read_decision(profile, e9_form(r.request_id, "withdraw")).outcome is Outcome.CANCELLED
    for body, reason in (
        (e9_form(r.request_id, "forward"), "decision 'forward' is not one of"),
        (e9_form(r.request_id, mainTable={}), r"no request_id at 'mainTable.aap_request_id'"),
        (e9_form(r.request_id, operator="王强"), "no approver at 'operator.loginid'"),
        (e9_form(r.request_id, operatetime="9点半"), "is not %Y-%m-%d %H:%M:%S"),
        (b"[1]", "not a JSON object"),
        (b"\xff", "not JSON"),
    ):
        with pytest.raises(NotThisProfile, match=reason):
            read_decision(profile, body)
