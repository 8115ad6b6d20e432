"""A dependency down in the middle of a load: every accepted document is archived, exactly once.

The real MinIO and PostgreSQL of ``deploy/local/infra.sh`` are stopped while the archive works
through a load, kept down several times longer than the retry budget that used to send such
messages to the dead-letter topic, and started again.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from archive.app import create_app as archive_app
from archive.settings import ArchiveSettings
from contracts.topics import DOCUMENTS_INGESTED, RECORDS_ARCHIVED
from devkit.identity import ERP, as_user
from devkit.samples import SAMPLES, sample_voucher
from devkit.testing import InProcessPermission, running
from devkit.watch import EventWatcher, of_type
from ingest.app import create_app as ingest_app
from ingest.settings import IngestSettings
from servicekit.kafka import client_options
from servicekit.settings import PlatformSettings

INFRA = Path(__file__).resolve().parents[2] / "deploy" / "local" / "infra.sh"
PDF = (SAMPLES / "attachments" / "bank-receipt-20250320-0004411.pdf").read_bytes()  # no invoice
DOCUMENTS = 120
# What used to dead-letter a message: three attempts, 0.1 s then 0.2 s apart. The outage lasts
# many times that: long enough for every waiting message to have given up under the old rule.
RETRY_BUDGET = 0.1 + 0.2
OUTAGE = 20 * RETRY_BUDGET
CHECK = {"minio": "s3", "postgres": "database"}
DEPENDENCY = {"minio": "object store", "postgres": "database"}


async def infra(*args: str) -> None:
    proc = await asyncio.create_subprocess_exec("bash", str(INFRA), *args)
    assert await proc.wait() == 0, f"infra.sh {' '.join(args)} failed"


async def until_unready(http: httpx.AsyncClient, check: str) -> str:
    """The positive signal that the outage is seen: /readyz names the missing dependency."""
    async with asyncio.timeout(60):
        while True:
            ready = (await http.get("/readyz")).json()
            if ready["checks"][check] != "ok":
                return str(ready["checks"][check])
            await asyncio.sleep(0.2)


async def dead_letters(platform: PlatformSettings, keys: set[str]) -> list[str]:
    """Which of ``keys`` are on the documents' dead-letter topic, read to its end."""
    topic = DOCUMENTS_INGESTED.dead_letter(platform.namespace, "archive")
    consumer = AIOKafkaConsumer(
        bootstrap_servers=platform.kafka_bootstrap, group_id=None, **client_options(platform)
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(DOCUMENTS_INGESTED.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found = []
        for tp in partitions:
            while await consumer.position(tp) < ends[tp]:
                batch = await consumer.getmany(tp, timeout_ms=1000)
                found += [r.key.decode() for r in batch.get(tp, []) if r.key.decode() in keys]
        return found
    finally:
        await consumer.stop()


@pytest.mark.parametrize("server", ["minio", "postgres"])
async def test_an_outage_in_the_middle_of_a_load_loses_nothing_and_doubles_nothing(
    server: str, platform: PlatformSettings, permission: InProcessPermission
) -> None:
    fast = PlatformSettings(
        consumer_attempts=3, consumer_backoff_seconds=0.1, consumer_wait_cap_seconds=1.0
    )
    fonds = "O" + secrets.token_hex(3).upper()
    accepted: list[str] = []
    instance = f"outage-{secrets.token_hex(4)}"
    archive = archive_app(ArchiveSettings(platform=fast, instance_id=instance))

    def upload(n: int) -> Coroutine[Any, Any, httpx.Response]:
        voucher = sample_voucher(fonds_code=fonds, attachment_count=1, voucher_no=f"记-{n:04d}")
        return ingest.post(
            "/v1/vouchers",
            files=[("voucher", ("v.json", voucher)), ("attachments", ("inv.pdf", PDF))],
            headers=as_user(ERP),
        )

    def archived() -> set[str]:
        return {s.event.data["record_id"] for s in watch.seen} & set(accepted)

    async with (
        running(
            ingest_app(IngestSettings(platform=fast), permission_transport=permission.transport)
        ) as ingest,
        EventWatcher(platform.kafka_bootstrap, platform.namespace, [RECORDS_ARCHIVED]) as watch,
    ):
        for n in range(DOCUMENTS):
            r = await upload(n)
            assert r.status_code == 202, r.text
            accepted.append(r.json()["document_id"])
        ids = set(accepted)

        async def cut() -> int:
            """The outage starts at the first record archived: the rest are still to come."""
            await watch.wait_until(lambda: len(archived()) > 0, 120, "a first record archived")
            before = len(archived())
            await infra("kill", server)
            return before

        cutting = asyncio.create_task(cut())
        try:
            async with running(archive) as http:
                before = await cutting
                why = await until_unready(http, CHECK[server])
                # Meanwhile an upload is refused, naming what is missing: nothing is accepted.
                refused = await upload(DOCUMENTS)
                await asyncio.sleep(OUTAGE)  # the outage itself: held, not waited out
                await infra("start", server)
                await watch.wait_until(
                    lambda: archived() == ids, 180, "every accepted document archived"
                )
                seen = await watch.caught_up()
                assert (await http.get("/readyz")).json()["checks"][CHECK[server]] == "ok"
        finally:
            cutting.cancel()  # a failed start must not leave the cut to land after the restart
            await infra("start", server)  # whatever happened, the next tests have their servers

    assert refused.status_code == 503, refused.text
    assert refused.json()["detail"].startswith(f"{DEPENDENCY[server]} unavailable, nothing done")
    assert before < DOCUMENTS, "the outage must land mid-load"
    assert why.startswith("failed")
    assert await dead_letters(platform, ids) == []  # waited out, not dead-lettered
    event_ids: dict[str, set[object]] = {}
    for s in seen:
        if s.event.data["record_id"] in ids:
            event_ids.setdefault(s.event.data["record_id"], set()).add(s.event.id)
    assert all(len(v) == 1 for v in event_ids.values()), "each record archived once"
    codes = {s.event.data["archive_code"] for s in seen if s.event.data["record_id"] in ids}
    assert len(codes) == DOCUMENTS
    numbers = sorted(int(c.rsplit("-", 1)[1]) for c in codes)
    assert numbers == list(range(1, DOCUMENTS + 1)), "numbered without gaps"
    assert json.dumps(sorted(ids)) == json.dumps(sorted(event_ids))


# What an ERP waits for an answer before it gives up and retries (an upload once waited ~40 s,
# up to 82 s, on a broker that was down).
ERP_TIMEOUT = 30


async def test_an_upload_while_kafka_is_down_is_answered_and_announced_once_it_is_back(
    platform: PlatformSettings, permission: InProcessPermission
) -> None:
    """Its state and its event committed together (the outbox), the upload is answered without
    waiting for the broker; the relay announces it once the broker is back."""
    settings = IngestSettings(platform=platform)
    voucher = sample_voucher(fonds_code="O" + secrets.token_hex(3).upper(), attachment_count=1)
    async with (
        running(ingest_app(settings, permission_transport=permission.transport)) as ingest,
        EventWatcher(platform.kafka_bootstrap, platform.namespace, [DOCUMENTS_INGESTED]) as watch,
    ):
        await infra("kill", "kafka")
        try:
            async with asyncio.timeout(ERP_TIMEOUT):
                r = await ingest.post(
                    "/v1/vouchers",
                    files=[("voucher", ("v.json", voucher)), ("attachments", ("inv.pdf", PDF))],
                    headers=as_user(ERP),
                )
        finally:
            await infra("start", "kafka")
        assert r.status_code == 202, r.text
        document = r.json()["document_id"]
        await watch.wait_for(of_type("DocumentIngested", document_id=document), timeout=120)
