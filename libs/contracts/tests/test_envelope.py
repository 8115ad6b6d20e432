import json
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import ValidationError

from contracts.envelope import derived_event_id, new_event
from contracts.events import (
    ALL_EVENTS,
    ApprovalDecided,
    DeadLettersRedriven,
    OaDecisionMade,
    OaDecisionMadeEvent,
    RecordArchived,
)
from contracts.topics import (
    SERVICES,
    OaConnection,
    all_topic_names,
    redrives,
    source_of,
    topic_for,
    topics,
)
from contracts.types import Money

SHANGHAI = timezone(timedelta(hours=8))


def decision(**overrides: object) -> OaDecisionMade:
    fields: dict[str, object] = {
        "request_id": uuid.uuid4(),
        "decision": "approved",
        "approver": "王强",
        "comment": "同意借阅",
        "oa_instance_id": "OA-1",
        "decided_at": datetime(2025, 3, 5, 9, 30, tzinfo=SHANGHAI),
    }
    fields.update(overrides)
    return OaDecisionMade.model_validate(fields)


def test_envelope_round_trips_through_json_with_chinese_text_unescaped() -> None:
    event = new_event(
        decision(), source="/oa/test", subject="s-1", correlation_id="c-1", actor="王强"
    )
    raw = event.model_dump_json()
    assert "同意借阅" in raw and "\\u" not in raw
    assert OaDecisionMadeEvent.model_validate_json(raw) == event
    body = json.loads(raw)
    for attribute in ("id", "source", "specversion", "type", "time", "subject", "datacontenttype"):
        assert body[attribute], attribute
    assert body["type"] == "cn.aap.OaDecisionMade.v2"
    assert body["correlationid"] == "c-1"


def test_times_are_normalised_to_utc_and_naive_times_refused() -> None:
    d = decision()
    assert d.decided_at == datetime(2025, 3, 5, 1, 30, tzinfo=UTC)
    assert d.decided_at.utcoffset() == timedelta(0)
    with pytest.raises(ValidationError, match="timezone"):
        decision(decided_at=datetime(2025, 3, 5, 9, 30))


def test_money_is_exact_decimal_and_refuses_floats() -> None:
    assert (
        Money(amount=Decimal("56500.10")).model_dump_json()
        == '{"amount":"56500.10","currency":"CNY"}'
    )
    assert Money.model_validate_json('{"amount": "0.10"}').amount == Decimal("0.10")
    with pytest.raises(ValidationError, match="never floats"):
        Money(amount=0.1)
    with pytest.raises(ValidationError):
        Money(amount=Decimal("1.005"))  # more than 分 precision


def test_models_are_frozen_and_reject_unknown_fields() -> None:
    d = decision()
    with pytest.raises(ValidationError):
        d.approver = "someone else"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Extra inputs"):
        decision(unexpected="x")


def test_envelope_type_must_match_its_data() -> None:
    event = new_event(decision(), source="/oa", subject="s", correlation_id="c")
    body = json.loads(event.model_dump_json())
    body["type"] = "cn.aap.ApprovalDecided.v1"
    with pytest.raises(ValidationError, match="does not match"):
        OaDecisionMadeEvent.model_validate(body)


def test_cause_carries_correlation_and_causation() -> None:
    cause = new_event(decision(), source="/oa", subject="s", correlation_id="story-1")
    effect = new_event(decision(), source="/x", subject="s", correlation_id="ignored", cause=cause)
    assert effect.correlationid == "story-1"
    assert effect.causationid == str(cause.id)


def test_derived_ids_are_stable_per_cause_and_type() -> None:
    cause = uuid.uuid4()
    assert derived_event_id(cause, RecordArchived) == derived_event_id(cause, RecordArchived)
    assert derived_event_id(cause, RecordArchived) != derived_event_id(cause, ApprovalDecided)
    assert derived_event_id(cause, RecordArchived) != derived_event_id(uuid.uuid4(), RecordArchived)


def test_every_event_has_exactly_one_topic_and_a_dead_letter_topic() -> None:
    connection = OaConnection("seeyon")
    per_connection = (connection.requests, connection.decisions, connection.decisions_v1)
    per_service = tuple(redrives(s) for s in SERVICES)  # each service writes only its own
    for event in ALL_EVENTS:
        registry = [t for t in topics(["seeyon"]) if event in t.events]
        if event is DeadLettersRedriven:
            assert tuple(registry) == per_service
            assert [t.owner for t in registry] == list(SERVICES)
            continue
        assert len(registry) == 1 and registry[0].events.count(event) == 1, event
        if registry[0] not in per_connection:
            assert topic_for(event) == registry[0]
    every = topics(["seeyon", "weaver"])
    names = all_topic_names("ns", ["seeyon", "weaver"])
    service_groups = sum(1 for t in every for c in t.consumers if not c.startswith("oa-"))
    assert len(names) == len(set(names)) == len(every) + service_groups
    assert "ns.aap.archive.dead-letters-redriven.v1" in names
    assert all(n.startswith("ns.aap.") for n in names)
    assert "ns.aap.oa.weaver.decision-made.v2" in names
    assert "ns.aap.oa.weaver.decision-made.v1" in names  # OA systems still on version 1
    # Each service's group its own dead letters; an OA connection writes none.
    assert "ns.aap.approval.decided.v2.permission.dlt" in names
    assert "ns.aap.approval.decided.v2.archive.dlt" in names
    assert "ns.aap.approval.requested.seeyon.v1.audit.dlt" in names
    assert not [n for n in names if n.endswith((".oa-seeyon.dlt", ".oa-weaver.dlt"))]


def test_an_oa_connection_writes_its_decisions_only_and_reads_its_requests_only() -> None:
    seeyon, weaver = OaConnection("seeyon"), OaConnection("weaver")
    assert seeyon.decisions.owner == "oa-seeyon"
    assert seeyon.decisions.produced_by("/oa/seeyon")
    assert not seeyon.decisions.produced_by("/oa/weaver")
    assert not seeyon.decisions.produced_by("/aap/approval")
    assert seeyon.requests.consumers == ("oa-seeyon", "audit")
    assert weaver.principal not in seeyon.requests.consumers
    assert source_of("approval") == "/aap/approval"


def test_event_names_are_past_tense_facts() -> None:
    irregular = {"Made", "Held", "Sent", "Paid", "Kept", "Redriven", "Taken"}
    for event in ALL_EVENTS:
        words = re.findall(r"[A-Z][a-z]*", event.event_type)
        assert any(w.endswith("ed") or w in irregular for w in words[1:]), event.event_type
