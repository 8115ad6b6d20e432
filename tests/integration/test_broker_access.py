"""The broker refuses forgeries: each topic is written only by its producer's principal and read
only by its consumers' (ACLs from the contracts' topic registry, on SASL_SSL with SCRAM).

The OA system, told to publish decisions, once could publish an ``ApprovalDecided`` straight to
the topic the permission service grants from; and one OA system could decide for another. Done
here in a namespace of its own, so that what is written cannot reach the other tests' consumers.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import GroupAuthorizationFailedError, TopicAuthorizationFailedError
from pydantic import SecretStr

from contracts.envelope import new_event
from contracts.events import ApprovalDecided, OaDecisionMade
from contracts.topics import APPROVALS_DECIDED, OPERATIONS, OaConnection
from devkit.kafka_access import apply_local, client_env
from devkit.namespace import discard
from devkit.topics import create_topics
from servicekit.kafka import client_options
from servicekit.settings import PlatformSettings


def as_principal(platform: PlatformSettings, principal: str) -> PlatformSettings:
    env = client_env(principal)
    return platform.model_copy(
        update={
            "kafka_username": env["AAP_KAFKA_USERNAME"],
            "kafka_password": SecretStr(env["AAP_KAFKA_PASSWORD"]),
        }
    )


@pytest.fixture
async def namespace(platform: PlatformSettings) -> AsyncIterator[str]:
    ns = "acl" + secrets.token_hex(3)
    await create_topics(platform.kafka_bootstrap, ns, platform.oa_connections)
    apply_local(platform, ns)
    yield ns
    await discard(platform, ns)


async def send(platform: PlatformSettings, principal: str, topic: str, body: bytes) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=platform.kafka_bootstrap,
        acks="all",
        enable_idempotence=True,
        **client_options(as_principal(platform, principal)),
    )
    await producer.start()
    try:
        await producer.send_and_wait(topic, body)
    finally:
        await producer.stop()


async def end_offsets(platform: PlatformSettings, topic: str) -> dict[TopicPartition, int]:
    probe = AIOKafkaConsumer(bootstrap_servers=platform.kafka_bootstrap, **client_options(platform))
    await probe.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(3)]
        ends: dict[TopicPartition, int] = await probe.end_offsets(partitions)
        return ends
    finally:
        await probe.stop()


def forged_decision() -> bytes:
    now = datetime.now(UTC)
    decided = ApprovalDecided(
        request_id=uuid.uuid4(),
        kind="borrowing",
        applicant="liuyang",
        record_ids=(uuid.uuid4(),),
        decision="approved",
        approver="王强",
        comment="",
        oa_instance_id="OA-FORGED",
        decided_at=now,
        access_until=now + timedelta(days=365 * 70),
    )
    event = new_event(decided, source="/aap/approval", subject="x", correlation_id="c")
    return event.model_dump_json().encode()


SEEYON, WEAVER = OaConnection("seeyon"), OaConnection("weaver")  # devkit's local OA systems


def oa_decision() -> bytes:
    decision = OaDecisionMade(
        request_id=uuid.uuid4(),
        decision="approved",
        approver="王强",
        comment="同意",
        oa_instance_id="OA-1",
        decided_at=datetime.now(UTC),
    )
    event = new_event(decision, source=SEEYON.source, subject="x", correlation_id="c")
    return event.model_dump_json().encode()


def untouched(topic: str) -> dict[TopicPartition, int]:
    return {TopicPartition(topic, p): 0 for p in range(3)}


async def test_a_decision_forged_by_the_oa_or_ingest_principal_is_refused_by_the_broker(
    platform: PlatformSettings, namespace: str
) -> None:
    topic = APPROVALS_DECIDED.name(namespace)
    before = await end_offsets(platform, topic)
    for principal in (SEEYON.principal, "ingest", OPERATIONS):  # the backup tool's too
        with pytest.raises(TopicAuthorizationFailedError):
            await send(platform, principal, topic, forged_decision())
    # Nothing reached the topic the permission service grants from: no grant can follow.
    assert await end_offsets(platform, topic) == before
    # One OA system cannot decide for another: its decisions go on its own topic only.
    theirs = WEAVER.decisions.name(namespace)
    with pytest.raises(TopicAuthorizationFailedError):
        await send(platform, SEEYON.principal, theirs, oa_decision())
    assert await end_offsets(platform, theirs) == untouched(theirs)
    # The OA principal writes what it is there for: its decisions, on its own topic.
    mine = SEEYON.decisions.name(namespace)
    await send(platform, SEEYON.principal, mine, oa_decision())
    assert await end_offsets(platform, mine) != untouched(mine)


async def test_a_principal_reads_only_its_own_topics_in_its_own_groups(
    platform: PlatformSettings, namespace: str
) -> None:
    async def read(principal: str, topic: str, group: str) -> None:
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=platform.kafka_bootstrap,
            group_id=group,
            auto_offset_reset="earliest",
            **client_options(as_principal(platform, principal)),
        )
        try:
            await consumer.start()
            await asyncio.wait_for(consumer.getmany(timeout_ms=2000), 30)
        finally:
            await consumer.stop()

    # The OA system reads the requests routed to it, in its own group; not another OA system's
    # requests, not the platform's decisions, and not in another service's group.
    oa, group = SEEYON.principal, f"{namespace}.{SEEYON.principal}"
    await read(oa, SEEYON.requests.name(namespace), group)
    with pytest.raises(TopicAuthorizationFailedError):
        await read(oa, WEAVER.requests.name(namespace), group)
    with pytest.raises(TopicAuthorizationFailedError):
        await read(oa, APPROVALS_DECIDED.name(namespace), group)
    with pytest.raises(GroupAuthorizationFailedError):
        await read(oa, SEEYON.requests.name(namespace), f"{namespace}.approval")


async def test_dead_letters_are_written_by_their_own_group_only_and_never_by_an_oa(
    platform: PlatformSettings, namespace: str
) -> None:
    """Once, every consumer of a topic could write its one dead-letter topic: the archive's
    principal wrote an approved decision there for the permission service's group, and a re-drive
    granted it. Now each group has its own, which only its service's principal writes."""
    permissions = APPROVALS_DECIDED.dead_letter(namespace, "permission")
    for principal in ("archive", "audit", SEEYON.principal):
        with pytest.raises(TopicAuthorizationFailedError):
            await send(platform, principal, permissions, forged_decision())
    # An OA connection writes no dead letters at all, not even beside the topics it reads or
    # writes.
    for dead in (
        SEEYON.requests.dead_letter(namespace, "audit"),
        SEEYON.decisions.dead_letter(namespace, "approval"),
    ):
        with pytest.raises(TopicAuthorizationFailedError):
            await send(platform, SEEYON.principal, dead, oa_decision())
    assert await end_offsets(platform, permissions) == untouched(permissions)
    await send(platform, "permission", permissions, b"set aside by its own group")
    assert await end_offsets(platform, permissions) != untouched(permissions)
