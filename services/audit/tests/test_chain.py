import copy
import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

from audit.domain.chain import fonds_named, next_entry, record_ids_of, verify
from contracts.envelope import AnyEnvelope
from contracts.trail import GENESIS_HASH, entry_hash


def event(n: int) -> AnyEnvelope:
    return AnyEnvelope(
        id=uuid.uuid4(),
        source="/aap/test",
        type="cn.aap.RecordArchived.v1",
        time=datetime(2025, 3, 5, 1, 0, n, tzinfo=UTC),
        subject=f"r-{n}",
        correlationid="c",
        actor="王强",
        data={"record_id": f"r-{n}", "amount": "1280.00", "summary": "差旅费"},
    )


def chain(n: int) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for i in range(n):
        entries.append(next_entry(entries[-1] if entries else None, event(i), datetime.now(UTC)))
    return entries


def test_entries_link_to_their_predecessor() -> None:
    entries = chain(3)
    assert entries[0]["prev_hash"] == GENESIS_HASH
    assert [e["seq"] for e in entries] == [1, 2, 3]
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(entries))
    result = verify(entries)
    assert result.ok and result.entries_checked == 3 and result.head_hash == entries[-1]["hash"]


def test_an_altered_entry_is_named_as_the_first_broken_link() -> None:
    entries = chain(5)
    tampered = copy.deepcopy(entries)
    tampered[2]["data"]["amount"] = "128.00"
    result = verify(tampered)
    assert not result.ok
    assert result.first_broken_seq == 3 and result.entries_checked == 2
    assert "altered" in (result.reason or "")


def test_a_rehashed_forgery_breaks_the_next_link() -> None:

    entries = chain(4)
    entries[1]["actor"] = "someone-else"
    entries[1]["hash"] = entry_hash(entries[1])  # the forger recomputes this entry's hash…
    result = verify(entries)
    assert (
        not result.ok and result.first_broken_seq == 3
    )  # …but entry 3 still points to the old one
    assert "prev_hash" in (result.reason or "")


def test_a_removed_or_reordered_entry_is_detected() -> None:
    entries = chain(4)
    assert verify([entries[0], entries[2], entries[3]]).first_broken_seq == 2
    assert verify([entries[1], entries[0]]).first_broken_seq == 1


def test_record_references_are_collected_from_the_data() -> None:
    assert record_ids_of({"record_ids": ["b", "a"], "document_id": "a"}) == ["a", "b"]
    assert record_ids_of({"grant_id": "g"}) == []


def test_an_entry_keeps_the_fonds_it_concerns_under_its_hash() -> None:
    """What an auditor of a fonds reads by: the fonds the event names (or, from the service,
    that of the records it names), part of what the hash covers."""
    named = event(1).model_copy(update={"data": {"record_id": "r-1", "fonds_code": "Q9"}})
    assert fonds_named(named.data) == ["Q9"] and fonds_named(event(2).data) == []
    entry = next_entry(None, named, datetime.now(UTC), fonds_named(named.data))
    assert entry["fonds_codes"] == ["Q9"]
    entry["fonds_codes"] = ["Q1"]  # moved to another fonds' auditors by a database writer
    assert not verify([entry]).ok
