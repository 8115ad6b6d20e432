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
