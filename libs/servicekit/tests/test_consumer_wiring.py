"""One handler on FastStream's in-memory test broker: typed delivery, retries and dead letters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from faststream.kafka import KafkaMessage, TestKafkaBroker

from contracts.envelope import CONTENT_TYPE, new_event
from contracts.events import OaDecisionMade, OaDecisionMadeEvent
from contracts.topics import OaConnection
from servicekit.auth import OidcSettings
from servicekit.kafka import subscriber_options
from servicekit.service import build_runtime
from servicekit.settings import PlatformSettings


def decision(comment: str, source: str = "/oa/seeyon") -> OaDecisionMadeEvent:
    data = OaDecisionMade(
        request_id=uuid.uuid4(),
        decision="approved",
        approver="王强",
        comment=comment,
        oa_instance_id="OA-1",
        decided_at=datetime.now(UTC),
    )
    return new_event(data, source=source, subject=str(data.request_id), correlation_id="c")


async def test_typed_delivery_retries_and_dead_letters(monkeypatch: pytest.MonkeyPatch) -> None:
    # A database role named, never connected to: this test's broker is FastStream's in memory.
    monkeypatch.setenv("AAP_UNIT_DATABASE_USER", "unit")
    monkeypatch.setenv("AAP_UNIT_DATABASE_PASSWORD", "never-used")
    platform = PlatformSettings(
        namespace="unit",
        consumer_attempts=2,
        kafka_security_protocol="PLAINTEXT",
        oa_connections=("seeyon", "weaver"),
    )
    rt = build_runtime("unit", platform, oidc=OidcSettings(issuer="https://idp.invalid/unit"))
    seeyon = OaConnection("seeyon").decisions
    topic = seeyon.name("unit")
    received: list[OaDecisionMadeEvent] = []
    attempts: list[str] = []
    dead: list[dict[str, Any]] = []

    @rt.broker.subscriber(topic, **subscriber_options(platform, "unit"))  # type: ignore[untyped-decorator]
    async def on_decision(event: OaDecisionMadeEvent) -> None:
        attempts.append(event.data.comment)
        if event.data.comment == "boom":
            raise RuntimeError("database unavailable")
        received.append(event)

    def raw(msg: KafkaMessage) -> bytes:
        return msg.body  # dead letters need not be JSON

    @rt.broker.subscriber(seeyon.dead_letter("unit", "unit"), decoder=raw)
    async def on_dead_letter(body: bytes, msg: KafkaMessage) -> None:
        dead.append(dict(msg.headers))

    good, failing = decision("同意"), decision("boom")
    passed_off = decision("另一个OA", source="/oa/weaver")  # on Seeyon's topic
    async with TestKafkaBroker(rt.broker) as broker:
        for event in (good, failing, passed_off):
            await broker.publish(
                event.model_dump_json().encode(),
                topic=topic,
                headers={"content-type": CONTENT_TYPE},
            )
        await broker.publish(b"{not json", topic=topic, headers={"content-type": CONTENT_TYPE})
        nested = b"[" * 100_000 + b"]" * 100_000
        await broker.publish(nested, topic=topic, headers={"content-type": CONTENT_TYPE})

    assert received == [good]  # the model arrives typed, Chinese text intact
    assert attempts.count("boom") == 2  # retried up to AAP_CONSUMER_ATTEMPTS, then set aside
    assert [d["x-dlt-error-type"] for d in dead] == [
        "RuntimeError",
        "Refused",
        "JSONDecodeError",
        "RecursionError",
    ]
    assert "'/oa/weaver' is not the producer" in dead[1]["x-dlt-error"]
    assert [d["x-dlt-attempts"] for d in dead] == ["2", "1", "1", "1"]  # poison: no retry
