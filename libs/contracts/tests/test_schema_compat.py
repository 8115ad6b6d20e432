"""The committed JSON Schemas are the published contract: changes must stay backward compatible."""

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contracts.events import (
    ALL_EVENTS,
    AccessRevoked,
    AccessRevokedV1,
    ApprovalDecided,
    ApprovalDecidedV1,
    OaDecisionMade,
    OaDecisionMadeV1,
)
from contracts.schema_export import breaking_changes, file_name, schema_of

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: e.cloudevents_type())
def test_models_stay_compatible_with_committed_schemas(event: Any) -> None:
    path = SCHEMAS / file_name(event)
    assert path.exists(), f"{path.name} is not committed: run `make schemas`"
    committed = json.loads(path.read_text())
    assert breaking_changes(committed, schema_of(event)) == []


BASE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "invoice_no": {"type": "string"},
        "amount": {"anyOf": [{"type": "number"}, {"type": "string"}]},
        "kind": {"$ref": "#/$defs/Kind"},
        "seller": {
            "type": "object",
            "properties": {"tax_id": {"type": "string"}},
            "required": ["tax_id"],
        },
    },
    "required": ["invoice_no", "amount"],
    "$defs": {"Kind": {"enum": ["a", "b"], "type": "string"}},
}


def changed(**edits: Any) -> dict[str, Any]:
    new: dict[str, Any] = json.loads(json.dumps(BASE))
    for dotted, value in edits.items():
        *parents, last = dotted.split("__")
        node = new
        for p in parents:
            node = node[p]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return new


def test_an_optional_new_field_is_compatible() -> None:
    new = changed(properties__note={"type": "string"})
    assert breaking_changes(BASE, new) == []


def test_fields_of_objects_inside_arrays_are_compared_too() -> None:
    line = {"type": "object", "properties": {"amount": {"type": "string"}}, "required": ["amount"]}
    old = {"type": "object", "properties": {"lines": {"type": "array", "items": line}}}
    grown = json.loads(json.dumps(old))
    grown["properties"]["lines"]["items"]["properties"]["note"] = {"type": "string"}
    assert breaking_changes(old, grown) == []
    shrunk = json.loads(json.dumps(old))
    shrunk["properties"]["lines"]["items"]["properties"] = {}
    assert breaking_changes(old, shrunk) == ["lines[].amount: field removed"]


def test_an_optional_object_may_gain_fields_and_may_not_lose_them() -> None:
    stored = {"type": "object", "properties": {"size": {"type": "integer"}}, "required": ["size"]}
    old = {
        "type": "object",
        "properties": {"export": {"anyOf": [{"$ref": "#/$defs/F"}, {"type": "null"}]}},
        "$defs": {"F": stored},
    }
    grown = json.loads(json.dumps(old))
    grown["$defs"]["F"]["properties"]["verified"] = {"type": "array", "items": {}}
    assert breaking_changes(old, grown) == []
    shrunk = json.loads(json.dumps(old))
    shrunk["$defs"]["F"]["properties"] = {}
    assert breaking_changes(old, shrunk) == ["export.size: field removed"]


def test_removed_retyped_newly_required_and_lost_enum_values_are_breaking() -> None:
    assert breaking_changes(BASE, changed(properties__invoice_no=None)) == [
        "invoice_no: field removed"
    ]
    assert breaking_changes(BASE, changed(properties__invoice_no={"type": "integer"})) == [
        "invoice_no: type changed"
    ]
    assert breaking_changes(BASE, changed(required=["invoice_no", "amount", "kind"])) == [
        "kind: new required field"
    ]
    assert breaking_changes(
        BASE, changed(**{"$defs__Kind": {"enum": ["a"], "type": "string"}})
    ) == ["kind: enum values removed ['b']"]
    nested = changed(properties__seller={"type": "object", "properties": {}, "required": []})
    assert breaking_changes(BASE, nested) == ["seller.tax_id: field removed"]


# Each event's new version with the version it replaces: every old event must read as new.
SUCCESSORS = [
    (ApprovalDecidedV1, ApprovalDecided),
    (AccessRevokedV1, AccessRevoked),
    (OaDecisionMadeV1, OaDecisionMade),
]


@pytest.mark.parametrize("old,new", SUCCESSORS, ids=lambda e: e.cloudevents_type())
def test_a_new_version_reads_every_event_of_the_version_it_replaces(old: Any, new: Any) -> None:
    assert (old.event_type, old.version + 1) == (new.event_type, new.version)
    assert breaking_changes(schema_of(old), schema_of(new)) == []


def test_a_version_1_decision_reads_as_version_2_unchanged() -> None:
    v1 = ApprovalDecidedV1(
        request_id=uuid.uuid4(),
        kind="borrowing",
        applicant="liuyang",
        fonds_code="Q001",
        record_ids=(uuid.uuid4(),),
        decision="rejected",
        approver="王强",
        comment="不同意",
        oa_instance_id="OA-1",
        decided_at=datetime(2025, 3, 5, 1, 0, tzinfo=UTC),
        access_until=None,
        days=7,
    )
    v2 = ApprovalDecided.from_v1(v1)
    assert v2.model_dump(include=set(v1.model_dump())) == v1.model_dump()
    assert v2.trail == () and v2.oa_connection is None
    revoked = AccessRevokedV1(
        grant_id=uuid.uuid4(),
        user="liuyang",
        record_ids=(uuid.uuid4(),),
        reason="withdrawn",
        revoked_at=datetime(2025, 3, 5, 1, 0, tzinfo=UTC),
        revoked_by="secadmin",
    )
    assert AccessRevoked.from_v1(revoked).model_dump(exclude={"request_id"}) == (
        revoked.model_dump()
    )
