"""A dead letter is a pointer to where its message was first read: its topic follows from the
dead-letter topic it lies on, never from what it says of itself; a record that is no letter is
refused with the reason (re-drive skips and counts it), never a crash."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from servicekit.kafka_reading import MalformedLetter, letter_of

TOPIC = "ns.aap.approval.decided.v2"


def record(headers: dict[str, str], value: bytes = b"{}") -> ConsumerRecord[bytes, bytes]:
    made: Any = ConsumerRecord(
        topic=f"{TOPIC}.permission.dlt",
        partition=0,
        offset=7,
        timestamp=0,
        timestamp_type=0,
        key=None,
        value=value,
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=len(value),
        headers=tuple((k, v.encode()) for k, v in headers.items()),
    )
    return made


WHERE = {"x-dlt-original-topic": TOPIC, "x-dlt-original-partition": "2"}


def test_a_letter_says_where_its_message_was_and_what_it_is() -> None:
    event = {"type": "cn.aap.ApprovalDecided.v2", "source": "/aap/approval", "subject": "r-1"}
    headers = WHERE | {"x-dlt-original-offset": "41", "x-dlt-error-type": "RuntimeError"}
    letter = letter_of(
        record(headers | {"x-dlt-error": "a bug"}, json.dumps(event).encode()), TOPIC
    )
    assert (letter.topic, letter.partition, letter.offset, letter.reason) == (TOPIC, 2, 41, "a bug")
    assert (letter.event_type, letter.source, letter.subject) == (
        "cn.aap.ApprovalDecided.v2",
        "/aap/approval",
        "r-1",
    )
    poison = letter_of(record(headers, b"{not json"), TOPIC)  # a poison message: no event
    assert poison.event_type is None and poison.offset == 41


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "names no original topic, partition and offset"),
        (
            WHERE
            | {
                "x-dlt-original-topic": "ns.aap.permission.role-assigned.v1",
                "x-dlt-original-offset": "1",
            },
            "but lies on the dead letters of",
        ),
        (WHERE, "names no original partition and offset"),
        (WHERE | {"x-dlt-original-offset": "one"}, "names no original partition and offset"),
        (WHERE | {"x-dlt-original-offset": "-1"}, "names partition 2, offset -1"),
    ],
)
def test_a_record_that_is_no_letter_is_refused_naming_why(
    headers: dict[str, str], why: str
) -> None:
    with pytest.raises(MalformedLetter, match=why):
        letter_of(record(headers), TOPIC)
