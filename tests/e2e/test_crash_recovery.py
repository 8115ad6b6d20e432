"""SIGKILL the archive service amid a few hundred uploads: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path

import httpx

from contracts.topics import DOCUMENTS_INGESTED, RECORDS_ARCHIVED
from devkit.identity import ERP, as_user
from devkit.stack import AUDITOR, LocalStack
from devkit.watch import EventWatcher, consumed
from servicekit.settings import PlatformSettings

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
DOCUMENTS = 300


def voucher(fonds: str, n: int) -> bytes:
    doc = json.loads((SAMPLES / "vouchers" / "2025-03-ji-0002.json").read_text(encoding="utf-8"))
    doc.update(fonds_code=fonds, voucher_no=f"记-{n:04d}")
    return json.dumps(doc, ensure_ascii=False).encode()


async def test_archive_killed_mid_stream_archives_every_document_exactly_once(
    stack: LocalStack, platform: PlatformSettings
) -> None:
    fonds = "K" + secrets.token_hex(3).upper()
    invoice = (SAMPLES / "attachments" / "bank-receipt-20250320-0004411.pdf").read_bytes()
    accepted: list[str] = []
    limit = asyncio.Semaphore(8)

    async def upload(http: httpx.AsyncClient, n: int) -> None:
        async with limit:
            r = await http.post(
                f"{stack.url('ingest')}/v1/vouchers",
                files=[
                    ("voucher", (f"{n}.json", voucher(fonds, n))),
                    ("attachments", ("inv.pdf", invoice)),
                ],
                headers=as_user(ERP),
            )
            assert r.status_code == 202, r.text
            accepted.append(r.json()["document_id"])

    async with (
        httpx.AsyncClient(timeout=60) as http,
        EventWatcher(platform.kafka_bootstrap, platform.namespace, [RECORDS_ARCHIVED]) as watch,
    ):
        uploads = [asyncio.create_task(upload(http, n)) for n in range(DOCUMENTS)]
        await watch.wait_until(lambda: len(watch.seen) >= DOCUMENTS // 4, 120, "a quarter archived")
        stack.kill("archive")  # SIGKILL: no graceful shutdown, no offset commit
        killed_after = len({s.event.data["record_id"] for s in watch.seen})
        await asyncio.gather(*uploads)  # ingest goes on accepting while archive is down
        stack.start("archive")
        stack.wait_ready("archive")
        ids = set(accepted)
        await watch.wait_until(
            lambda: ids <= {s.event.data["record_id"] for s in watch.seen},
            180,
            "every record archived",
        )
        # Every delivery handled, redeliveries after the restart included, and all read.
        await consumed(
            platform.kafka_bootstrap, platform.namespace, "archive", [DOCUMENTS_INGESTED], 120
        )
        await watch.caught_up()
        listing = (
            await http.get(
                f"{stack.url('archive')}/v1/records",
                params={"fonds_code": fonds, "limit": 500, "with_total": True},
                headers=as_user(AUDITOR),
            )
        ).json()

    assert len(accepted) == DOCUMENTS
    assert 0 < killed_after < DOCUMENTS, "the kill must land mid-stream"
    assert listing["total"] == DOCUMENTS  # nothing lost, nothing twice
    assert {r["record_id"] for r in listing["items"]} == ids
    codes = [r["archive_code"] for r in listing["items"]]
    assert len(set(codes)) == DOCUMENTS
    event_ids: dict[str, set[object]] = {}
    for s in watch.seen:
        if s.event.data["record_id"] in ids:
            event_ids.setdefault(s.event.data["record_id"], set()).add(s.event.id)
    assert all(len(v) == 1 for v in event_ids.values()), "a re-published fact keeps its id"
