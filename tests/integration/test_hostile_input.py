"""Hostile and repeated input against the running ingest service (and the archive behind it):
nothing bad gets in, nothing good is lost or doubled, and the service never stalls."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from archive.app import create_app as archive_app
from contracts.envelope import new_event
from contracts.topics import DOCUMENTS_INGESTED, RECORDS_ARCHIVED, source_of
from devkit.identity import ERP, as_user
from devkit.samples import (
    SAMPLES,
    ingested_document,
    sample_material,
    sample_voucher,
    store_files,
    unique_pdf,
    voucher_summary,
)
from devkit.send import EventSender
from devkit.testing import InProcessPermission, running
from devkit.watch import EventWatcher, consumed, of_type
from ingest.app import create_app as ingest_app
from ingest.domain.files import media_type_of
from ingest.settings import IngestSettings
from servicekit import s3
from servicekit.kafka import client_options
from servicekit.settings import PlatformSettings

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text("utf-8"))
# A scan that is no invoice: the same bytes on two vouchers are no duplicate booking.
PDF = unique_pdf()
RECEIPT = (SAMPLES / "attachments" / "bank-receipt-20250320-0004411.pdf").read_bytes()
K3 = (SAMPLES / "journals" / "kingdee-k3-2025-04.csv").read_bytes()


def journal_form(fonds: str | None = None) -> dict[str, str]:
    return {
        "profile": "kingdee-k3",
        "fonds_code": fonds or "H" + secrets.token_hex(3).upper(),
        "company_name": "上海澄明科技有限公司",
    }


async def upload(
    http: httpx.AsyncClient, voucher: bytes, *attachments: tuple[str, bytes]
) -> httpx.Response:
    files = [("voucher", ("v.json", voucher)), *(("attachments", a) for a in attachments)]
    return await http.post("/v1/vouchers", files=files, headers=as_user(ERP))


async def test_the_same_voucher_again_is_answered_with_its_record_and_nothing_new(
    platform: PlatformSettings,
    permission: InProcessPermission,
) -> None:
    voucher = sample_voucher(attachment_count=2)
    doc = json.loads(voucher)
    async with (
        running(ingest_app(permission_transport=permission.transport)) as http,
        EventWatcher(platform.kafka_bootstrap, platform.namespace, [DOCUMENTS_INGESTED]) as watch,
    ):
        first = await upload(http, voucher, ("inv.pdf", PDF), ("receipt.pdf", RECEIPT))
        assert first.status_code == 202, first.text
        document = first.json()["document_id"]
        # An ERP retry: the same voucher, re-encoded and re-ordered, the same attachments.
        gb18030 = json.dumps(doc, ensure_ascii=False, indent=2).encode("gb18030")
        again = await upload(http, gb18030, ("r.pdf", RECEIPT), ("i.pdf", PDF))
        assert again.status_code == 200, again.text
        assert (again.json()["status"], again.json()["document_id"]) == (
            "already_accepted",
            document,
        )
        # The same key with other content: refused, naming the record that holds the key.
        changed = json.dumps({**doc, "summary": "采购办公用品（改）"}, ensure_ascii=False).encode()
        conflict = await upload(http, changed, ("inv.pdf", PDF), ("receipt.pdf", RECEIPT))
        assert conflict.status_code == 409, conflict.text
        reasons = " ".join(p["message"] for p in conflict.json()["problems"])
        assert f"held by record {document}, with other content" in reasons
        # The outbox's relay publishes after the answer: the first, then all there is.
        await watch.wait_for(of_type("DocumentIngested", document_id=document))
        seen = await watch.caught_up()
    ingested = [
        s.event
        for s in seen
        if (s.event.data.get("voucher") or {}).get("voucher_no") == doc["voucher_no"]
    ]
    assert [e.data["document_id"] for e in ingested] == [document]  # published once


async def test_twenty_uploads_of_one_voucher_at_once_make_one_record(
    platform: PlatformSettings,
    permission: InProcessPermission,
) -> None:
    voucher = sample_voucher(attachment_count=1)
    async with (
        running(ingest_app(permission_transport=permission.transport)) as http,
        running(archive_app()),
        EventWatcher(
            platform.kafka_bootstrap, platform.namespace, [DOCUMENTS_INGESTED, RECORDS_ARCHIVED]
        ) as watch,
    ):
        answers = await asyncio.gather(
            *(upload(http, voucher, ("inv.pdf", PDF)) for _ in range(20))
        )
        assert sorted(a.status_code for a in answers) == [200] * 19 + [202], [
            a.text for a in answers
        ]
        [document] = {a.json()["document_id"] for a in answers}
        await watch.wait_for(of_type("RecordArchived", record_id=document), timeout=60)
        seen = await watch.caught_up()
    number = json.loads(voucher)["voucher_no"]
    mine = [s for s in seen if (s.event.data.get("voucher") or {}).get("voucher_no") == number]
    assert [s.topic.rsplit(".", 2)[-2] for s in mine].count("document-ingested") == 1
    assert len({s.event.data["record_id"] for s in mine if "record_id" in s.event.data}) == 1


async def test_the_archive_never_makes_a_second_record_of_one_voucher(
    platform: PlatformSettings,
) -> None:
    """Two documents of one voucher (events from before intake kept keys, say): the archive
    keeps one record and dead-letters the other, naming the record that holds the voucher."""
    store = s3.ObjectStore(s3.connect(platform), platform.bucket_name("ingest-originals"))
    await store.ensure_bucket()
    files = await store_files(store, [("voucher", "v.json", "application/json", b'{"a": 1}')])
    summary = voucher_summary(voucher_no=f"记-{secrets.randbelow(10**8)}")
    docs = [ingested_document(files, voucher=summary) for _ in range(2)]
    ids = {str(d.document_id) for d in docs}
    dead_letters = DOCUMENTS_INGESTED.dead_letter(platform.namespace, "archive")
    async with (
        running(archive_app()) as http,
        EventWatcher(platform.kafka_bootstrap, platform.namespace, [RECORDS_ARCHIVED]) as watch,
        EventSender(platform.kafka_bootstrap, platform.namespace) as out,
    ):
        before = await dead_letter_figure(http, lambda n: True)
        for doc in docs:
            event = new_event(
                doc, source=source_of("ingest"), subject=str(doc.document_id), correlation_id="c"
            )
            await out.send(event)
        # The two are in different partitions: whichever the archive takes first holds it.
        [kept] = await watch.wait_for(
            lambda e: e.data.get("record_id") in ids and e.type.endswith("RecordArchived.v1"),
            timeout=60,
        )
        holder = kept.data["record_id"]
        [other] = ids - {holder}
        letter = await dead_letter_of(platform, dead_letters, other)
        await consumed(
            platform.kafka_bootstrap, platform.namespace, "archive", [DOCUMENTS_INGESTED]
        )
        seen = await watch.caught_up()
        # The set-aside message is visible where operators look: one more dead letter.
        await dead_letter_figure(http, lambda n: n == before + 1)
    assert letter["x-dlt-group"] == f"{platform.namespace}.archive"
    assert not any(s.event.data.get("record_id") == other for s in seen)
    assert letter["x-dlt-error-type"] == "ArchivedAlready"
    assert f"is archived already as record {holder}" in letter["x-dlt-error"]


async def dead_letter_figure(http: httpx.AsyncClient, wanted: Callable[[int], bool]) -> int:
    """The service's dead-letter count in /readyz, once counted and as ``wanted`` (it is
    re-counted every 10 seconds)."""
    figure: object = None
    for _ in range(150):
        figure = (await http.get("/readyz")).json()["details"]["dead_letters"]
        if isinstance(figure, int) and wanted(figure):
            return figure
        await asyncio.sleep(0.2)
    raise AssertionError(f"dead letters in /readyz: {figure}")


async def dead_letter_of(platform: PlatformSettings, topic: str, key: str) -> dict[str, str]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=platform.kafka_bootstrap, group_id=None, **client_options(platform)
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(3)])
        await consumer.seek_to_beginning()
        async with asyncio.timeout(60):
            async for record in consumer:
                if record.key == key.encode():
                    return {k: v.decode() for k, v in record.headers}
    finally:
        await consumer.stop()
    raise AssertionError("unreachable")


async def test_a_journal_sent_again_is_answered_voucher_by_voucher_with_the_records_made(
    platform: PlatformSettings,
    permission: InProcessPermission,
) -> None:
    form = journal_form()
    async with running(ingest_app(permission_transport=permission.transport)) as http:
        first = await http.post(
            "/v1/journals", files={"journal": ("k3.csv", K3)}, data=form, headers=as_user(ERP)
        )
        again = await http.post(
            "/v1/journals", files={"journal": ("copy.csv", K3)}, data=form, headers=as_user(ERP)
        )
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert first.json()["accepted"] == 1 and again.json()["already_accepted"] == 1
    assert [v["document_id"] for v in again.json()["vouchers"]] == [
        v["document_id"] for v in first.json()["vouchers"]
    ]


def rows_of(n: int) -> bytes:
    """A journal of ``n`` vouchers of two lines each, as 金蝶 K/3 exports it."""
    header, debit, credit = K3.decode("utf-8-sig").splitlines()[:3]
    out = io.StringIO()
    out.write(header + "\n")
    for number in range(1, n + 1):
        for line in (debit, credit):
            cells = next(csv.reader([line]))
            cells[2] = str(number)
            csv.writer(out).writerow(cells)
    return out.getvalue().encode()


async def test_a_journal_over_a_limit_is_refused_whole_naming_it(
    permission: InProcessPermission,
) -> None:
    limits = IngestSettings(
        journal_max_rows=10, max_journal_bytes=64 * 1024, max_package_bytes=1024
    )
    async with running(ingest_app(limits, permission_transport=permission.transport)) as http:
        rows = await http.post(
            "/v1/journals",
            files={"journal": ("big.csv", rows_of(6))},
            data=journal_form(),
            headers=as_user(ERP),
        )
        size = await http.post(
            "/v1/journals",
            files={"journal": ("huge.csv", rows_of(1000))},
            data=journal_form(),
            headers=as_user(ERP),
        )
        package = await http.post(
            "/v1/packages", files={"package": ("p.zip", bytes(4096))}, headers=as_user(ERP)
        )
    assert rows.status_code == 413, rows.text
    assert rows.json()["detail"] == "journal refused whole: more than the limit of 10 rows"
    assert size.status_code == 413 and "over the limit of 65536 bytes" in size.json()["detail"]
    assert package.status_code == 413 and "over the limit of 1024 bytes" in package.json()["detail"]


async def test_a_runaway_parse_is_killed_the_service_stays_healthy_and_serves_the_next(
    permission: InProcessPermission,
) -> None:
    """A journal the workers cannot read within the time limit (set small here): its worker is
    killed and replaced; /healthz answers within a second throughout; the next upload is taken."""
    settings = IngestSettings(
        parse_seconds=0.2, journal_max_rows=1_000_000, max_journal_bytes=2**30
    )
    big = rows_of(60_000)
    async with running(ingest_app(settings, permission_transport=permission.transport)) as http:
        parsing = asyncio.create_task(
            http.post(
                "/v1/journals",
                files={"journal": ("big.csv", big)},
                data=journal_form(),
                headers=as_user(ERP),
            )
        )
        beats = 0
        while not parsing.done():
            r = await http.get("/healthz", timeout=1)  # an httpx timeout fails the test
            assert r.status_code == 200
            beats += 1
            await asyncio.sleep(0.05)
        answer = await parsing
        after = await upload(http, sample_voucher(attachment_count=1), ("inv.pdf", PDF))
    assert answer.status_code == 422, answer.text
    assert (
        answer.json()["detail"]
        == "journal refused whole: parsing went over the time limit of 0.2 s"
    )
    assert beats > 0
    assert after.status_code == 202, after.text


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_the_hostile_corpus_is_refused_with_its_reason_never_a_crash(
    name: str, corpus_http: httpx.AsyncClient
) -> None:
    case, data = EXPECTED[name], (CORPUS / name).read_bytes()
    filename = Path(name).name
    if case["send"] == "attachment":
        r = await upload(corpus_http, sample_voucher(attachment_count=1), (filename, data))
    elif case["send"] == "voucher":
        r = await upload(corpus_http, data)
    elif case["send"] in {"material", "material-file"}:
        described = case["send"] == "material-file"
        files = [
            ("description", ("m.json", sample_material() if described else data)),
            ("files", (filename, data) if described else ("statement.pdf", PDF)),
        ]
        r = await corpus_http.post("/v1/materials", files=files, headers=as_user(ERP))
    elif case["send"] == "journal":
        r = await corpus_http.post(
            "/v1/journals",
            files={"journal": (filename, data)},
            data=journal_form(),
            headers=as_user(ERP),
        )
    else:
        r = await corpus_http.post(
            "/v1/packages", files={"package": (filename, data)}, headers=as_user(ERP)
        )
    assert r.status_code in case["statuses"], (name, case["why"], r.text[:2000])
    body = r.json()
    if r.status_code >= 400:  # a refusal names what is wrong
        named = (
            body.get("problems")
            or body.get("detail")
            or [
                c
                for c in body.get("package_report", [])
                if c["outcome"] == "failed" and c["detail"]
            ]
        )
        assert named, (name, body)
    if held := case.get("held"):  # accepted, and held for review by that item's failure
        assert body["review_required"], (name, body)
        [item] = [c for c in body["check_report"] if c["code"] == held]
        assert item["outcome"] == "failed" and item["detail"], (name, item)
    assert (await corpus_http.get("/healthz", timeout=1)).status_code == 200


@pytest.fixture(scope="module")
async def corpus_http(platform: PlatformSettings, permission: InProcessPermission) -> Any:
    async with running(ingest_app(permission_transport=permission.transport)) as http:
        yield http


def test_media_types_by_name_cover_the_corpus() -> None:
    assert {media_type_of(n, None) for n in EXPECTED if EXPECTED[n]["send"] == "attachment"} >= {
        "application/pdf",
        "application/ofd",
    }
