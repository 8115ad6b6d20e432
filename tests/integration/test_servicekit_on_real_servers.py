"""The shared runtime against the real servers: dead letters, idempotency, locked originals."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from minio.commonconfig import COMPLIANCE
from minio.error import S3Error

from contracts.envelope import new_event
from contracts.events import DocumentRejected, DocumentRejectedEvent, Problem
from contracts.topics import DOCUMENTS_REJECTED, source_of
from devkit import pg_access
from devkit.namespace import discard, provision
from devkit.send import EventSender
from devkit.testing import running
from servicekit import s3
from servicekit.idempotency import ProcessedEvents
from servicekit.kafka import client_options, subscriber_options
from servicekit.service import build_app, build_runtime
from servicekit.settings import PlatformSettings


def rejected(filename: str, subject: str, producer: str = "ingest") -> DocumentRejectedEvent:
    data = DocumentRejected(
        submission_id=uuid.uuid4(),
        filename=filename,
        problems=(Problem(field="entries", message="借贷不平衡"),),
        submitted_by="erp",
        submitted_at=datetime.now(UTC),
    )
    return new_event(data, source=source_of(producer), subject=subject, correlation_id=subject)


async def read_dead_letters(
    platform: PlatformSettings, keys: set[bytes], timeout: float = 30
) -> dict[bytes, dict[str, str]]:
    topic = DOCUMENTS_REJECTED.dead_letter(platform.namespace, "audit")
    consumer = AIOKafkaConsumer(
        bootstrap_servers=platform.kafka_bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        **client_options(platform),
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(DOCUMENTS_REJECTED.partitions)])
        found: dict[bytes, dict[str, str]] = {}
        deadline = asyncio.get_running_loop().time() + timeout
        while keys - set(found) and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for r in records:
                    if r.key in keys:
                        found[r.key] = {k: v.decode() for k, v in r.headers}
        return found
    finally:
        await consumer.stop()


async def test_poison_and_failing_messages_go_to_dead_letters_and_the_consumer_goes_on(
    platform: PlatformSettings,
) -> None:
    # A consumer of the audit service's topic, as its group, in a namespace of its own (the
    # session's audit group must not commit past what its log holds).
    ns = "dp" + secrets.token_hex(3)
    await provision(platform, ns)
    platform = platform.model_copy(update={"namespace": ns})
    rt = build_runtime("audit", platform)
    handled: list[str] = []
    tag = uuid.uuid4().hex[:8]

    topic = DOCUMENTS_REJECTED.name(platform.namespace)
    options = subscriber_options(platform, "audit")

    @rt.broker.subscriber(topic, **options)  # type: ignore[untyped-decorator]
    async def on_rejected(event: DocumentRejectedEvent) -> None:
        if event.data.filename == "fail.json":
            raise RuntimeError("object store unavailable")
        if event.subject.startswith(tag):  # the topic is shared with the other tests' events
            handled.append(event.subject)

    topic = DOCUMENTS_REJECTED.name(platform.namespace)
    async with (
        running(build_app(rt, title="probe")),
        EventSender(platform.kafka_bootstrap, platform.namespace) as out,
    ):
        await out.send_raw(topic, b'{"specversion": "1.0", "id": ', key=f"{tag}-not-json".encode())
        await out.send_raw(topic, b'{"specversion": "1.0"}', key=f"{tag}-not-an-event".encode())
        await out.send(rejected("fail.json", f"{tag}-failing"))
        await out.send(rejected("ok.json", f"{tag}-fine"))
        # Written by someone the broker let write, but saying it comes from another service.
        await out.send(rejected("ok.json", f"{tag}-forged", producer="archive"))
        # The consumer keeps running until every letter is read: the four messages sit in
        # different partitions, and one handled says nothing of the others.
        keys = {f"{tag}-{k}".encode() for k in ("not-json", "not-an-event", "failing", "forged")}
        letters = await read_dead_letters(platform, keys, timeout=60)
        for _ in range(150):
            if f"{tag}-fine" in handled:
                break
            await asyncio.sleep(0.2)
    assert handled == [f"{tag}-fine"]
    assert set(letters) == keys
    assert letters[f"{tag}-not-json".encode()]["x-dlt-error-type"] == "JSONDecodeError"
    not_an_event = letters[f"{tag}-not-an-event".encode()]
    assert not_an_event["x-dlt-error-type"] == "ValidationError"
    assert not_an_event["x-dlt-attempts"] == "1"  # no retry can mend a malformed message
    assert "subject" in not_an_event["x-dlt-error"]
    failing = letters[f"{tag}-failing".encode()]
    assert failing["x-dlt-error"] == "object store unavailable"
    assert failing["x-dlt-attempts"] == str(platform.consumer_attempts)
    assert failing["x-dlt-original-topic"] == topic
    forged = letters[f"{tag}-forged".encode()]
    assert (forged["x-dlt-error-type"], forged["x-dlt-attempts"]) == ("Refused", "1")
    assert forged["x-dlt-error"] == (
        f"source '/aap/archive' is not the producer of {topic} (ingest): dropped"
    )
    await discard(platform, ns)


async def test_a_redelivered_event_is_handled_once(platform: PlatformSettings) -> None:
    async with pg_access.scratch(platform, "audit") as db:  # a database of its own: pruning
        await redelivered_once(ProcessedEvents(db, "probe"))  # forgets every consumer's ids


async def redelivered_once(processed: ProcessedEvents) -> None:
    runs: list[int] = []

    async def work() -> None:
        runs.append(1)

    event = rejected("x.json", "idem")
    assert await processed.handle_once(event, work) is True
    assert await processed.handle_once(event, work) is False
    assert await processed.handle_once(rejected("x.json", "idem"), work) is True  # another event id
    assert len(runs) == 2
    # Past Kafka's retention an id cannot come back; pruning forgets it, and only it.
    assert await processed.prune(timedelta(days=14)) == 0
    assert await processed.prune(timedelta(0)) == 2
    assert await processed.handle_once(event, work) is True


async def read_subject(
    platform: PlatformSettings, subject: str, until_type: str, timeout: float = 30
) -> list[dict[str, object]]:
    """The rejected-document events about ``subject`` on the topic, up to one of ``until_type``
    (the filename names them here), in their order."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=platform.kafka_bootstrap, group_id=None,
        auto_offset_reset="earliest", **client_options(platform),
    )  # fmt: skip
    topic = DOCUMENTS_REJECTED.name(platform.namespace)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(DOCUMENTS_REJECTED.partitions)])
        seen: list[dict[str, object]] = []
        async with asyncio.timeout(timeout):
            while not any(e["data"]["filename"] == until_type for e in seen):  # type: ignore[index]
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    seen += [json.loads(r.value) for r in records if r.key == subject.encode()]
        return seen
    finally:
        await consumer.stop()


async def test_an_event_is_published_with_its_state_or_not_at_all(
    platform: PlatformSettings,
) -> None:
    """The transactional outbox on the real servers: what a use case publishes in a unit of
    work that fails is never sent, and neither is its state kept; what it publishes in one that
    commits is sent by the relay — also when Kafka was not there to take it at the time."""
    rt = build_runtime("ingest", platform, publishes=[DocumentRejected])
    unit = rt.unit_of_work()
    subject = "outbox-" + uuid.uuid4().hex[:8]
    await rt.db.open()

    async def upload(filename: str) -> None:  # state and event, as a use case keeps them
        await rt.publisher.publish(rejected(filename, subject))
        async with rt.db.connection() as conn:
            await conn.execute(
                "INSERT INTO submissions VALUES (%s, 'rejected', now(), 'erp', %s)",
                (uuid.uuid4(), json.dumps({"filename": filename})),
            )

    async def kept(filename: str) -> bool:
        async with rt.db.connection() as conn:
            found = await conn.execute(
                "SELECT 1 FROM submissions WHERE details->>'filename' = %s", (filename,)
            )
            return await found.fetchone() is not None

    # The broker is not started: the use case's commit does not wait for it.
    with pytest.raises(RuntimeError):
        async with unit():
            await upload("失败.json")
            raise RuntimeError("the use case fails after publishing")
    async with unit():
        await upload("成功.json")
    assert not await kept("失败.json") and await kept("成功.json")

    async with running(build_app(rt, title="outbox probe")):  # the relay starts with it
        seen = await read_subject(platform, subject, until_type="成功.json")
    assert [e["data"]["filename"] for e in seen] == ["成功.json"]  # type: ignore[index]
    assert seen[0]["correlationid"] == subject


async def test_an_event_the_broker_refuses_is_set_aside_and_holds_up_nothing(
    platform: PlatformSettings,
) -> None:
    """A poison event in the outbox (here, larger than the broker takes) is set aside with the
    reason, and the events after it are published."""
    rt = build_runtime("ingest", platform, publishes=[DocumentRejected])
    subject = "poison-" + uuid.uuid4().hex[:8]
    huge = rejected("大.json", subject)
    await rt.db.open()
    async with rt.db.connection() as conn:  # as a use case would have written it, 2 MB of it
        await conn.execute(
            "INSERT INTO outbox (event_id, event_type, topic, key, body) "
            "VALUES (%s, %s, %s, %s, %s)",
            (huge.id, huge.type, DOCUMENTS_REJECTED.name(platform.namespace), subject.encode(),
             huge.model_dump_json().encode() + b" " * 2_000_000),
        )  # fmt: skip
    await rt.publisher.publish(rejected("后来的.json", subject))
    async with running(build_app(rt, title="outbox probe")) as http:
        seen = await read_subject(platform, subject, until_type="后来的.json")
        # The system administrator sees it counted (the relay set it aside before the later).
        ready = (await http.get("/readyz")).json()
        metrics = (await http.get("/metrics")).text
    assert [e["data"]["filename"] for e in seen] == ["后来的.json"]  # type: ignore[index]
    assert ready["details"]["outbox_refused"] == 1
    assert 'aap_outbox_refused{service="ingest"' in metrics
    with pg_access.superuser(platform, platform.database_name("ingest")) as admin:
        [(reason,)] = admin.execute(
            "SELECT reason FROM outbox_refused WHERE event_id = %s", (huge.id,)
        ).fetchall()
    assert reason.startswith("MessageSizeTooLargeError"), reason


async def test_originals_copied_under_compliance_lock_cannot_be_deleted(
    platform: PlatformSettings,
) -> None:
    client = s3.connect(platform)
    source = s3.ObjectStore(client, platform.bucket_name("lock-src"))
    locked = s3.ObjectStore(client, platform.bucket_name("lock-dst"))
    await source.ensure_bucket()
    await locked.ensure_bucket()
    await source.put("a/发票.xml", b"<EInvoice/>", "application/xml")
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    await locked.copy_locked_from(source.bucket, "a/发票.xml", "r/1", until=until, legal_hold=False)

    assert await locked.get("r/1") == b"<EInvoice/>"
    retention = await asyncio.to_thread(client.get_object_retention, locked.bucket, "r/1")
    assert retention is not None and retention.mode == COMPLIANCE
    assert retention.retain_until_date == until
    version = (await asyncio.to_thread(client.stat_object, locked.bucket, "r/1")).version_id
    with pytest.raises(S3Error, match=r"(?i)retention|locked|WORM"):
        await asyncio.to_thread(client.remove_object, locked.bucket, "r/1", version_id=version)
