"""Each service in-process against the real Kafka, S3 and PostgreSQL servers."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from approval.app import create_app as approval_app
from approval.settings import ApprovalSettings
from archive.adapters.records import Records
from archive.app import create_app as archive_app
from audit.app import create_app as audit_app
from audit.checkpoints import Checkpoints
from audit.settings import AuditSettings
from contracts.envelope import AnyEnvelope, new_event
from contracts.events import (
    ApprovalDecided,
    DocumentIngested,
    LegalHoldPlaced,
    OaDecisionMade,
    OaDecisionMadeV1,
    RecordArchived,
    RoleAssigned,
)
from contracts.oa_callback import signed_headers
from contracts.topics import (
    ACCESS_GRANTED,
    ACCESS_REVOKED,
    APPROVALS_DECIDED,
    DOCUMENTS_INGESTED,
    DOCUMENTS_REJECTED,
    INVOICES_VERIFIED,
    LEGAL_HOLDS_PLACED,
    RECORDS_ARCHIVED,
    ROLES_ASSIGNED,
    ROLES_REVOKED,
    OaConnection,
    redrives,
    source_of,
)
from contracts.types import Money
from devkit import pg_access
from devkit.identity import ERP, as_user, subject_of
from devkit.namespace import discard, provision
from devkit.oa_standin import serving as oa_standin_serving
from devkit.samples import (
    archived_record,
    ingested_document,
    sample_voucher,
    store_files,
    voucher_summary,
)
from devkit.send import EventSender
from devkit.testing import InProcessPermission, running
from devkit.watch import EventWatcher, consumed, heard_of, of_type
from ingest.app import create_app as ingest_app
from permission.app import create_app as permission_app
from permission.service import PermissionService
from permission.settings import PermissionSettings
from servicekit import s3
from servicekit.database import Pool
from servicekit.settings import PlatformSettings

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
ROLES = [("zhaomin", "archivist", "Q9")]  # beside the local stack's (deploy/local/roles.json)
WANGFANG = {"user": "wangfang", "subject": subject_of("wangfang")}  # as the archive names her


async def stored_document(platform: PlatformSettings, n: int) -> DocumentIngested:
    """A document as ingest would announce it, with its original really in the ingest bucket."""
    store = s3.ObjectStore(s3.connect(platform), platform.bucket_name("ingest-originals"))
    await store.ensure_bucket()
    data = f"凭证 {n} {uuid.uuid4()}".encode()
    files = await store_files(store, [("voucher", f"{n}.json", "application/json", data)])
    return ingested_document(
        files,
        fonds_code="Q009",
        company_name="测试单位",
        fiscal_year=2024,
        period=12,
        voucher=voucher_summary(
            voucher_no=f"记-{n:04d}",
            voucher_date="2024-12-31",
            summary="结转",
            total=Money(amount="1.00"),
            declared_attachment_count=0,
        ),
    )


async def test_archive_accessions_each_document_once_despite_redelivery(
    platform: PlatformSettings,
    permission: InProcessPermission,
) -> None:
    docs = [await stored_document(platform, n) for n in range(8)]
    events = [
        new_event(d, source=source_of("ingest"), subject=str(d.document_id), correlation_id="c")
        for d in docs
    ]
    await permission.assign(*ROLES)
    async with (
        running(archive_app(permission_transport=permission.transport)) as http,
        EventWatcher(platform.kafka_bootstrap, platform.namespace, [RECORDS_ARCHIVED]) as watch,
        EventSender(platform.kafka_bootstrap, platform.namespace) as out,
    ):
        for e in events:
            await out.send(e)
            await out.send(e)  # the same event delivered twice
        # …and the first document announced again under a new event id.
        await out.send(
            new_event(
                docs[0],
                source=source_of("ingest"),
                subject=str(docs[0].document_id),
                correlation_id="c",
            )
        )
        ids = {str(d.document_id) for d in docs}
        await watch.wait_until(
            lambda: {s.event.data.get("record_id") for s in watch.seen} >= ids, 60, "8 records"
        )
        # Every delivery handled, and all that handling published read: any duplicate is seen.
        await consumed(
            platform.kafka_bootstrap, platform.namespace, "archive", [DOCUMENTS_INGESTED]
        )
        await watch.caught_up()
        # The permission service, which decides who reads a record, has heard of each too.
        await consumed(
            platform.kafka_bootstrap, platform.namespace, "permission", [RECORDS_ARCHIVED]
        )
        records = [
            (await http.get(f"/v1/records/{d.document_id}", headers=as_user("auditor-all"))).json()
            for d in docs
        ]

    per_record: dict[str, set[uuid.UUID]] = {}
    for s in watch.seen:
        per_record.setdefault(s.event.data["record_id"], set()).add(s.event.id)
    assert all(len(event_ids) == 1 for event_ids in per_record.values()), "one fact id per record"
    codes = sorted(r["archive_code"] for r in records)
    assert len(set(codes)) == 8
    assert all(c.startswith("Q009-2024-D30-PZ-") for c in codes)
    assert {f["sha256"] for r in records for f in r["originals"]} == {
        d.files[0].sha256 for d in docs
    }
    assert all(
        r["originals"][0]["bucket"] == platform.bucket_name("archive-originals") for r in records
    )


async def test_archive_code_sequence_is_atomic_under_concurrency(
    platform: PlatformSettings, archive_db: Pool
) -> None:
    # Four archive processes (each its own Records and its own connections) allocating in one
    # scope at once.
    pools = [pg_access.opened(platform, "archive") for _ in range(3)]
    archivers = [Records(archive_db), *[Records(await p.__aenter__()) for p in pools]]
    scope = f"Q-conc-{uuid.uuid4().hex[:6]}|2025|D30|PZ"
    numbers = await asyncio.gather(
        *(archivers[n % 4].next_sequence(scope, f"doc-{n}") for n in range(40))
    )
    # A claim that got in while its answer was lost (an outage), and another archiver numbering
    # on meanwhile: the retry takes its own number again, not a new one.
    await archivers[1].next_sequence(scope, "x")  # its answer never reached the caller
    meanwhile = await archivers[0].next_sequence(scope, "y")
    again = await archivers[0].next_sequence(scope, "x")
    in_another_process = await archivers[2].next_sequence(scope, "x")
    for p in pools:
        await p.__aexit__(None, None, None)
    assert sorted(numbers) == list(range(1, 41))
    assert (meanwhile, again, in_another_process) == (42, 41, 41)  # no gap, no number twice


async def test_an_upload_over_the_size_limit_is_refused_while_it_arrives(
    permission: InProcessPermission,
) -> None:
    from ingest.settings import IngestSettings

    voucher = sample_voucher()
    async with running(
        ingest_app(
            IngestSettings(max_request_bytes=64 * 1024), permission_transport=permission.transport
        )
    ) as http:
        r = await http.post(
            "/v1/vouchers",
            files=[("voucher", ("v.json", voucher)), ("attachments", ("a.pdf", b"%PDF-" * 30_000))],
            headers=as_user(ERP),
        )
        assert r.status_code == 413


async def test_ingest_rejects_with_reasons_and_keeps_chinese_text(
    platform: PlatformSettings,
    permission: InProcessPermission,
) -> None:
    voucher = sample_voucher("2025-03-ji-0001.json").decode()
    async with (
        running(ingest_app(permission_transport=permission.transport)) as http,
        EventWatcher(platform.kafka_bootstrap, platform.namespace, [DOCUMENTS_REJECTED]) as watch,
    ):
        r = await http.post(
            "/v1/vouchers",
            files={"voucher": ("v.json", voucher.encode("gb18030"))},
            headers=as_user(ERP),
        )
        assert r.status_code == 202, r.text
        assert r.json()["voucher"]["summary"] == "报销市场部张伟北京出差差旅费"
        assert r.json()["files"][0]["size"] == len(voucher.encode("gb18030"))
        assert r.json()["review_required"] is True  # 附件张数 1, none uploaded: 2-8

        bad = (SAMPLES / "vouchers" / "unbalanced.json").read_bytes()
        r = await http.post(
            "/v1/vouchers", files={"voucher": ("unbalanced.json", bad)}, headers=as_user(ERP)
        )
        assert r.status_code == 422
        assert "借贷不平衡" in r.json()["problems"][0]["message"]
        [event] = await watch.wait_for(
            of_type("DocumentRejected", submission_id=r.json()["submission_id"])
        )
        assert event.data["problems"][0]["field"] == "entries"

        r = await http.post("/v1/vouchers", files={"voucher": ("v.json", b"{")})
        assert r.status_code == 401  # no authenticated user


async def test_approval_takes_decisions_from_topic_and_callback_once(
    platform: PlatformSettings,
) -> None:
    secret, other = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    settings = ApprovalSettings(
        oa_callback_keys={"seeyon": secret, "weaver": other},
        oa_routes={"Q001": "seeyon", "*": "weaver"},
    )
    key = secret.encode()
    seeyon, weaver = OaConnection("seeyon"), OaConnection("weaver")
    async with (
        running(approval_app(settings)) as http,
        EventWatcher(
            platform.kafka_bootstrap,
            platform.namespace,
            [seeyon.requests, weaver.requests, APPROVALS_DECIDED],
        ) as watch,
        EventSender(platform.kafka_bootstrap, platform.namespace) as out,
    ):

        async def borrow(fonds: str) -> httpx.Response:
            ns = platform.namespace
            record = await heard_of(platform.kafka_bootstrap, ns, out, fonds, ("approval",))
            ask = {"fonds_code": fonds, "record_ids": [str(record)], "reason": "核对"}
            return await http.post(
                "/v1/borrowing-requests", headers=as_user("liuyang"), json=ask | {"days": 3}
            )

        r = await borrow("Q001")
        assert r.status_code == 201
        request_id = r.json()["request_id"]
        assert r.json()["oa_connection"] == "seeyon"
        [asked] = await watch.wait_for(of_type("ApprovalRequested", request_id=request_id))
        assert asked.data["applicant"] == "liuyang" and asked.actor == "liuyang"
        assert asked.data["mode"] == "view"  # unsaid, the least: 查阅, nothing downloaded
        # On the topic of the OA system deciding for Q001, which only it reads.
        [where] = [x.topic for x in watch.seen if x.event.id == asked.id]
        assert where == seeyon.requests.name(platform.namespace)

        decided_at = datetime.now(UTC).replace(microsecond=0)
        oa = OaDecisionMade(
            request_id=uuid.UUID(request_id),
            decision="approved",
            approver="王强",
            oa_instance_id="OA-9",
            decided_at=decided_at,
        )
        # The other OA system's decision, on its own topic, for a request not routed to it: set
        # aside (dead-lettered with the reason), no decision.
        usurper = new_event(oa, source="/oa/weaver", subject=request_id, correlation_id="x")
        await out.send(usurper, to=weaver.decisions)
        await consumed(platform.kafka_bootstrap, platform.namespace, "approval", [weaver.decisions])
        envelope = new_event(oa, source="/oa/seeyon", subject=request_id, correlation_id=request_id)
        await out.send(envelope, to=seeyon.decisions)
        await out.send(envelope, to=seeyon.decisions)  # redelivered by the OA side
        [decided] = await watch.wait_for(of_type("ApprovalDecided", request_id=request_id))
        assert decided.data["decision"] == "approved"
        assert decided.data["access_until"] == (decided_at + timedelta(days=3)).isoformat().replace(
            "+00:00", "Z"
        )
        assert decided.causationid == str(envelope.id)
        assert decided.data["fonds_code"] == "Q001"
        assert decided.data["mode"] == "view"  # a 查阅 grant follows: reading only

        body = json.dumps(
            {
                "request_id": request_id,
                "decision": "rejected",
                "approver": "王强",
                "oa_instance_id": "OA-9",
                "decided_at": decided_at.isoformat(),
            }
        ).encode()
        stale = signed_headers("seeyon", key, body, now=time.time() - 600)
        r = await http.post("/v1/oa/decisions", content=body, headers=stale)
        assert r.status_code == 401 and "s off" in r.json()["detail"]
        # One OA system's key does not sign for another, nor does an unknown key id.
        for key_id, signing in (("seeyon", other.encode()), ("nobody", key)):
            passed_off = signed_headers(key_id, signing, body)
            r = await http.post("/v1/oa/decisions", content=body, headers=passed_off)
            assert r.status_code == 401, r.text
        # The other OA system, with its own genuine key: not routed to it.
        r = await http.post(
            "/v1/oa/decisions", content=body, headers=signed_headers("weaver", other.encode(), body)
        )
        assert r.status_code == 403 and "routed to OA system seeyon" in r.json()["detail"], r.text
        r = await http.post(
            "/v1/oa/decisions", content=body, headers=signed_headers("seeyon", key, body)
        )
        assert r.status_code == 409  # contradicts the decision already taken
        # Any other fonds goes to the OA system routed "*" (with no such route, a fonds no
        # OA system decides for is refused naming it: services/approval/tests).
        r = await borrow("Q777")
        assert r.status_code == 201 and r.json()["oa_connection"] == "weaver"
        r = await http.get(f"/v1/borrowing-requests/{request_id}", headers=as_user("liuyang"))
        assert r.json()["status"] == "approved"
        # Another employee's request does not exist for them (a borrower sees their own only).
        r = await http.get(f"/v1/borrowing-requests/{request_id}", headers=as_user("wangfang"))
        assert r.status_code == 404
        # The redelivered OA decision handled, and what its handling published read.
        await consumed(platform.kafka_bootstrap, platform.namespace, "approval", [seeyon.decisions])
        await watch.caught_up()
    decisions = {
        s.event.id for s in watch.seen if of_type("ApprovalDecided", request_id=request_id)(s.event)
    }
    assert len(decisions) == 1


async def test_an_oa_system_still_on_version_1_decides_on_its_version_1_topic(
    platform: PlatformSettings,
) -> None:
    """OaDecisionMade is at version 2; an OA system that publishes version 1 keeps its topic,
    and its decision is read as version 2."""
    keys = {"seeyon": secrets.token_urlsafe(32), "weaver": secrets.token_urlsafe(32)}
    settings = ApprovalSettings(oa_callback_keys=keys, oa_routes={"*": "seeyon"})
    seeyon = OaConnection("seeyon")
    async with (
        running(approval_app(settings)) as http,
        EventWatcher(platform.kafka_bootstrap, platform.namespace, [APPROVALS_DECIDED]) as watch,
        EventSender(platform.kafka_bootstrap, platform.namespace) as out,
    ):
        record = await heard_of(
            platform.kafka_bootstrap, platform.namespace, out, "Q001", ("approval",)
        )
        ask = {"fonds_code": "Q001", "record_ids": [str(record)], "reason": "核对", "days": 2}
        r = await http.post("/v1/borrowing-requests", headers=as_user("liuyang"), json=ask)
        request_id = r.json()["request_id"]
        v1 = OaDecisionMadeV1(
            request_id=uuid.UUID(request_id),
            decision="rejected",
            approver="王强",
            oa_instance_id="OA-V1",
            decided_at=datetime.now(UTC),
        )
        sent = new_event(v1, source="/oa/seeyon", subject=request_id, correlation_id=request_id)
        await out.send(sent, to=seeyon.decisions_v1)
        [decided] = await watch.wait_for(of_type("ApprovalDecided", request_id=request_id))
    assert decided.type == "cn.aap.ApprovalDecided.v2"
    assert (decided.data["decision"], decided.data["approver"]) == ("rejected", "wangqiang")
    assert decided.causationid == str(sent.id)


async def record_archived(platform: PlatformSettings, fonds: str, n: int = 7) -> RecordArchived:
    """A record of ``fonds``, as the archive announces it, its original really stored."""
    return archived_record(fonds, (await stored_document(platform, n)).files)


async def archived(platform: PlatformSettings, out: EventSender, fonds: str) -> uuid.UUID:
    """A record of ``fonds`` announced (RecordArchived)."""
    data = await record_archived(platform, fonds)
    await out.send(
        new_event(
            data, source=source_of("archive"), subject=str(data.record_id), correlation_id="c"
        )
    )
    return data.record_id


def approved_borrowing(
    applicant: str, records: tuple[uuid.UUID, ...], request: uuid.UUID, lasting: timedelta
) -> ApprovalDecided:
    """The approval service's decision on a borrowing request of fonds Q001, approved now."""
    now = datetime.now(UTC)
    return ApprovalDecided(
        request_id=request,
        kind="borrowing",
        applicant=applicant,
        fonds_code="Q001",
        record_ids=records,
        decision="approved",
        approver="王强",
        comment="",
        oa_instance_id="OA-1",
        decided_at=now,
        access_until=now + lasting,
        mode="copy",
    )


async def test_permission_grants_on_approval_and_revokes_on_expiry(
    platform: PlatformSettings,
) -> None:
    settings = PermissionSettings(sweep_seconds=0.5)
    request = uuid.uuid4()
    ask_for: dict[str, str] = WANGFANG | {"action": "download"}
    archive_calls = as_user("client:aap-archive")  # the archive asks
    async with (
        running(permission_app(settings)) as http,
        EventWatcher(
            platform.kafka_bootstrap, platform.namespace, [ACCESS_GRANTED, ACCESS_REVOKED]
        ) as watch,
        EventSender(platform.kafka_bootstrap, platform.namespace) as out,
    ):
        # A record of Q001, and one of Q002 that the request names too.
        record, foreign = (
            await archived(platform, out, "Q001"),
            await archived(platform, out, "Q002"),
        )
        await consumed(
            platform.kafka_bootstrap, platform.namespace, "permission", [RECORDS_ARCHIVED]
        )
        ask = ask_for | {"resource": f"record:{record}"}
        decided = approved_borrowing("wangfang", (record, foreign), request, timedelta(seconds=10))
        assert (await http.get("/v1/check", params=ask, headers=archive_calls)).json()[
            "allowed"
        ] is False
        await out.send(
            new_event(
                decided, source=source_of("approval"), subject=str(request), correlation_id="c"
            )
        )
        [granted] = await watch.wait_for(of_type("AccessGranted", request_id=str(request)))
        assert (await http.get("/v1/check", params=ask, headers=archive_calls)).json()[
            "allowed"
        ] is True
        # Q001's OA system approved: the record of Q002 stays closed, though the request named it.
        other = ask_for | {"resource": f"record:{foreign}"}
        assert (await http.get("/v1/check", params=other, headers=archive_calls)).json()[
            "allowed"
        ] is False
        seen = await http.get("/v1/visibility", params=WANGFANG, headers=archive_calls)
        assert seen.json()["record_ids"] == [str(record)], seen.text
        # A person cannot ask the check API (it would tell anyone who may read what)…
        asked = await http.get("/v1/check", params=ask, headers=as_user("wangfang"))
        assert asked.status_code == 403
        # …but sees their own grants, and only their own.
        mine = (await http.get("/v1/grants", headers=as_user("wangfang"))).json()
        theirs = (await http.get("/v1/grants", headers=as_user("liuyang"))).json()
        assert granted.data["grant_id"] in {g["grant_id"] for g in mine}
        assert granted.data["grant_id"] not in {g["grant_id"] for g in theirs}
        other = ask | {"user": "other", "subject": subject_of("other")}
        assert (await http.get("/v1/check", params=other, headers=archive_calls)).json()[
            "allowed"
        ] is False
        [revoked] = await watch.wait_for(
            of_type("AccessRevoked", grant_id=granted.data["grant_id"]), timeout=30
        )
        assert revoked.data["reason"] == "expired"
        check: dict[str, Any] = (
            await http.get("/v1/check", params=ask, headers=archive_calls)
        ).json()
        assert check["allowed"] is False and "no longer active" in check["reason"]


async def test_audit_records_each_event_once_and_verify_names_a_tampered_entry(
    platform: PlatformSettings, permission: InProcessPermission, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A namespace of its own: its audit group reads this test's events, not the backlog of the
    # whole session, and the tampering below touches no other test's log.
    ns = "au" + secrets.token_hex(3)
    await provision(platform, ns)
    for name, value in pg_access.namespace_env(ns).items():  # its own databases' roles
        monkeypatch.setenv(name, value)
    mine = platform.model_copy(update={"namespace": ns})
    archived = await record_archived(platform, "Q9", 99)
    record = archived.record_id
    event = new_event(
        archived,
        source=source_of("archive"),
        subject=str(record),
        correlation_id="c",
        actor="审计测试",
    )
    audits = as_user("auditor-all")
    await permission.assign(*ROLES)
    async with (
        running(
            audit_app(AuditSettings(platform=mine), permission_transport=permission.transport)
        ) as http,
        EventSender(mine.kafka_bootstrap, ns) as out,
    ):
        for _ in range(3):
            await out.send(event)  # redelivered twice
        # Every delivery handled (the audit group's offsets at the topic's end), then counted.
        await consumed(mine.kafka_bootstrap, ns, "audit", [RECORDS_ARCHIVED])
        items = (
            await http.get("/v1/entries", params={"record_id": str(record)}, headers=audits)
        ).json()["items"]
        assert len(items) == 1 and items[0]["actor"] == "审计测试"
        assert (await http.get("/v1/entries", params={"actor": "审计测试"}, headers=audits)).json()[
            "items"
        ] == items
        assert (await http.get("/v1/verify", headers=audits)).json()["ok"] is True
        # The security auditor reads it too; nobody else does, an archivist of the fonds included.
        by_security_auditor = await http.get(
            "/v1/entries", params={"record_id": str(record)}, headers=as_user("secauditor")
        )
        assert by_security_auditor.json()["items"] == items
        for reader in ("liuyang", "zhaomin", "client:aap-erp"):
            refused = await http.get("/v1/entries", headers=as_user(reader))
            assert refused.status_code == 403, reader
            assert "security auditors and auditors only" in refused.json()["detail"]
        assert (await http.get("/v1/export")).status_code == 401

        # An auditor of Q9 only reads the entries about Q9: the record's archiving, and a hold
        # on it, which names the record and not its fonds. Not another fonds', nor the whole
        # chain to export or verify.
        await permission.assign(("lijing", "auditor", "Q9"))
        hold = LegalHoldPlaced(
            record_id=record,
            archive_code=archived.archive_code,
            reason="审计调阅",
            placed_by="zhaomin",
            placed_at=datetime.now(UTC),
        )
        elsewhere = archived.model_copy(
            update={
                "record_id": (other := uuid.uuid4()),
                "document_id": other,  # a record of its own, from a document of its own
                "fonds_code": "Q8",
                "archive_code": "Q8-2024-1",
            }
        )
        for data, producer in ((hold, "archive"), (elsewhere, "archive")):
            await out.send(
                new_event(
                    data,
                    source=source_of(producer),
                    subject=str(data.record_id),
                    correlation_id="c",
                )
            )
        await consumed(mine.kafka_bootstrap, ns, "audit", [RECORDS_ARCHIVED, LEGAL_HOLDS_PLACED])
        q9 = (await http.get("/v1/entries", headers=as_user("lijing"))).json()["items"]
        assert {e["event_type"].split(".")[-2] for e in q9} >= {"RecordArchived", "LegalHoldPlaced"}
        assert {f for e in q9 for f in e["fonds_codes"]} == {"Q9"}
        there = await http.get(
            "/v1/entries", params={"record_id": str(elsewhere.record_id)}, headers=audits
        )
        assert len(there.json()["items"]) == 1  # there, for the auditor of every fonds
        hidden = await http.get(
            "/v1/entries",
            params={"record_id": str(elsewhere.record_id)},
            headers=as_user("lijing"),
        )
        assert hidden.json()["items"] == []
        for whole in ("/v1/export", "/v1/verify"):
            refused = await http.get(whole, headers=as_user("lijing"))
            assert refused.status_code == 403 and "yours: Q9" in refused.json()["detail"]

        # A rogue database administrator edits the entry…
        seq = items[0]["seq"]
        async with (
            pg_access.beyond_its_rules(mine, "audit") as rogue,
            rogue.connection() as conn,
        ):
            kept = await (
                await conn.execute("SELECT entry FROM entries WHERE seq = %s", (seq,))
            ).fetchone()
            assert kept is not None
            await conn.execute(
                "UPDATE entries SET entry = jsonb_set(entry::jsonb, '{data,archive_code}', "
                "'\"FORGED\"')::text WHERE seq = %s",
                (seq,),
            )
            await conn.commit()
            broken = (await http.get("/v1/verify", headers=audits)).json()
            # …and puts it back.
            await conn.execute("UPDATE entries SET entry = %s WHERE seq = %s", (kept["entry"], seq))
        assert broken["ok"] is False
        assert broken["first_broken_seq"] == seq
        assert "altered" in broken["reason"]
        verified = await http.get("/v1/verify", headers=audits)
        assert verified.status_code == 200, verified.text
        assert verified.json()["ok"] is True
    await discard(platform, ns)


async def test_an_invoice_is_booked_once_under_concurrent_uploads(
    platform: PlatformSettings,
    permission: InProcessPermission,
) -> None:
    """财会〔2020〕6号 第三条: no duplicate booking, even when the uploads race."""
    number = "2531" + str(uuid.uuid4().int)[:16]
    xml = (SAMPLES / "attachments" / "einvoice-25312000000012345678.xml").read_bytes()
    xml = xml.replace(b"25312000000012345678", number.encode())
    voucher = json.loads(sample_voucher("2025-03-ji-0001.json"))

    async def upload(http: Any, n: int) -> Any:
        body = json.dumps({**voucher, "voucher_no": f"{voucher['voucher_no']}-{n}"}).encode()
        return await http.post(
            "/v1/vouchers",
            files=[("voucher", ("v.json", body)), ("attachments", ("invoice.xml", xml))],
            headers=as_user(ERP),
        )

    async with running(ingest_app(permission_transport=permission.transport)) as http:
        answers = await asyncio.gather(*(upload(http, n) for n in range(6)))
        later = await upload(http, 99)

    accepted = [a for a in answers if a.status_code == 202]
    assert len(accepted) == 1, [a.status_code for a in answers]
    holder = accepted[0].json()["document_id"]
    assert accepted[0].json()["invoices"][0]["invoice_number"] == number
    for answer in [*(a for a in answers if a is not accepted[0]), later]:
        assert answer.status_code == 422
        messages = " ".join(p["message"] for p in answer.json()["problems"])
        assert f"invoice {number} is already booked by its buyer in record {holder}" in messages


async def test_one_booking_per_invoice_and_party_whichever_format_came_first(
    platform: PlatformSettings,
    permission: InProcessPermission,
) -> None:
    """The PDF and the XML of one 数电票 are one booking; its seller (a company of the same
    group) books its own side; a booking kept before keys named the party still stands."""
    from decimal import Decimal

    from devkit.sample_invoices import Printout, render

    number = "2531" + str(uuid.uuid4().int)[:16]
    buyer, seller = (
        ("上海澄明科技有限公司", "91310115MA1K4XYZ0P"),
        ("北京国贸嘉华酒店管理有限公司", "91110105MA01ABCD2X"),
    )
    printout = render(
        Printout(number, "2025-03-03", "普通发票", buyer, seller, "*住宿服务*住宿费",
                 Decimal("1207.55"), "6%", Decimal("72.45"), "王敏")
    )  # fmt: skip
    xml = (SAMPLES / "attachments" / "einvoice-25312000000012345678.xml").read_bytes()
    xml = xml.replace(b"25312000000012345678", number.encode())
    voucher = json.loads(sample_voucher("2025-03-ji-0001.json"))

    async def upload(http: Any, voucher_no: str, name: str, data: bytes, **more: str) -> Any:
        body = json.dumps({**voucher, "voucher_no": voucher_no, **more}).encode()
        return await http.post(
            "/v1/vouchers",
            files=[("voucher", ("v.json", body)), ("attachments", (name, data))],
            headers=as_user(ERP),
        )

    async with running(ingest_app(permission_transport=permission.transport)) as http:
        first = await upload(http, f"记-{number[-6:]}", "发票.pdf", printout)
        assert first.status_code == 202, first.text
        assert first.json()["review_required"]  # read from the PDF's text: held until confirmed
        [invoice] = first.json()["invoices"]
        assert (invoice["source"], invoice["booked_by"]) == ("printout_text", "buyer")
        then_xml = await upload(http, f"记-{number[-6:]}-X", "invoice.xml", xml)
        assert then_xml.status_code == 422, then_xml.text
        assert f"invoice {number} is already booked by its buyer" in then_xml.text
        sale = await upload(http, f"记-{number[-6:]}-S", "invoice.xml", xml, company_name=seller[0])
        assert sale.status_code == 202, sale.text  # the seller's side of the same invoice
        assert sale.json()["invoices"][0]["booked_by"] == "seller"

        legacy = "2531" + str(uuid.uuid4().int)[:16]  # booked before keys named the party
        async with pg_access.opened(platform, "ingest") as pool, pool.connection() as conn:
            await conn.execute(
                "INSERT INTO invoice_bookings (key, document_id, fonds_code) VALUES (%s, %s, %s)",
                (legacy, uuid.uuid4(), voucher["fonds_code"]),
            )
        old = await upload(
            http, f"记-{legacy[-6:]}", "invoice.xml", xml.replace(number.encode(), legacy.encode())
        )
        assert old.status_code == 422, old.text
        assert f"invoice {legacy} is already booked by its buyer in record" in old.text


async def test_a_signed_receipt_is_verified_and_an_altered_copy_refused(
    platform: PlatformSettings,
    permission: InProcessPermission,
) -> None:
    """A bank's e-receipt signed by a signer the archive's trust anchors vouch for is accepted
    naming its signer; a copy changed after signing is refused naming the file; a signer of
    another CA is held for an archivist (AAP_INGEST_TRUST_ANCHORS: the checkout's own CA)."""
    from devkit.pki import BANK, Authority, amended, local_trust, sign_pdf

    receipt = (SAMPLES / "attachments" / "bank-receipt-20250320-0004411.pdf").read_bytes()
    signed = await asyncio.to_thread(sign_pdf, receipt, local_trust().signer)
    stranger = Authority.root("不在信任锚中的 CA").issue("某某公司", "某某公司")
    elsewhere = await asyncio.to_thread(sign_pdf, receipt, stranger)
    voucher = json.loads(sample_voucher("2025-03-ji-0001.json"))
    run = uuid.uuid4().hex[:6]

    async def upload(http: Any, n: str, data: bytes) -> Any:
        body = json.dumps({**voucher, "voucher_no": f"记-{run}{n}", "attachment_count": 1})
        return await http.post(
            "/v1/vouchers",
            files=[("voucher", ("v.json", body.encode())), ("attachments", ("回单.pdf", data))],
            headers=as_user(ERP),
        )

    def line(answer: Any, code: str) -> dict[str, Any]:
        return next(r for r in answer.json()["check_report"] if r["code"] == code)

    async with running(ingest_app(permission_transport=permission.transport)) as http:
        good = await upload(http, "1", signed)
        tampered = await upload(http, "2", amended(signed))
        untrusted = await upload(http, "3", elsewhere)

    assert good.status_code == 202, good.text
    assert not good.json()["review_required"], good.json()["check_conclusion"]
    assert line(good, "1-1")["outcome"] == "passed" and BANK in line(good, "1-1")["detail"]
    [verified] = good.json()["files"][1]["verified"]
    assert BANK in verified["signer"] and verified["trusted"] is True
    assert tampered.status_code == 422, tampered.text
    [problem] = [p for p in tampered.json()["problems"] if p["field"] == "check 1-1"]
    assert "回单.pdf" in problem["message"] and "changed after" in problem["message"]
    assert untrusted.status_code == 202, untrusted.text
    assert untrusted.json()["review_required"]
    assert line(untrusted, "AAP-SIGNER-TRUSTED")["outcome"] == "failed"
    assert "不在信任锚中的 CA" in line(untrusted, "AAP-SIGNER-TRUSTED")["detail"]


async def test_a_sealed_ofd_invoice_and_an_sm2_signed_pdf_are_verified(
    platform: PlatformSettings,
    permission: InProcessPermission,
) -> None:
    """An OFD 数电票 sealed under the archive's SM2 trust anchor: its seal verified by the
    configured verifier (a JVM with ofdrw and BouncyCastle), 1-1 naming signer and seal, the
    invoice read from its structured data vouched for by the seal; a copy whose page was changed
    after sealing refused naming the file."""
    import io
    import zipfile
    from decimal import Decimal

    from devkit.sample_invoices import Printout, ofd
    from devkit.sm2 import local_sm2_authority

    number = "2531" + str(uuid.uuid4().int)[:16]
    hotel = "北京国贸嘉华酒店管理有限公司"
    invoice = Printout(
        number, "2025-03-03", "普通发票", ("上海澄明科技有限公司", "91310115MA1K4XYZ0P"),
        (hotel, "91110105MA01ABCD2X"), "*住宿服务*住宿费", Decimal("1207.55"), "6%",
        Decimal("72.45"), "王敏",
    )  # fmt: skip
    seal = f"{hotel}发票专用章"
    sealed = await asyncio.to_thread(local_sm2_authority().seal, ofd(invoice), seal, hotel, hotel)
    package, out = zipfile.ZipFile(io.BytesIO(sealed)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as altered:
        for info in package.infolist():
            data = package.read(info)
            if info.filename.endswith("Content.xml"):
                data = data.replace(b"1280.00", b"12800.00")
            altered.writestr(info.filename, data)
    voucher = json.loads(sample_voucher("2025-03-ji-0001.json"))

    async def upload(http: Any, n: str, data: bytes) -> Any:
        body = json.dumps({**voucher, "voucher_no": f"记-{number[-6:]}{n}"})
        return await http.post(
            "/v1/vouchers",
            files=[("voucher", ("v.json", body.encode())), ("attachments", ("发票.ofd", data))],
            headers=as_user(ERP),
        )

    def line(answer: Any, code: str) -> dict[str, Any]:
        return next(r for r in answer.json()["check_report"] if r["code"] == code)

    receipt = (SAMPLES / "attachments" / "bank-receipt-20250320-0004411.pdf").read_bytes()
    bank = "上海浦东发展银行 电子回单专用"
    sm2_signed = await asyncio.to_thread(local_sm2_authority().sign_pdf, receipt, bank, "浦发银行")
    async with running(ingest_app(permission_transport=permission.transport)) as http:
        tampered = await upload(http, "-A", out.getvalue())
        good = await upload(http, "", sealed)
        body = json.dumps({**voucher, "voucher_no": f"记-{number[-6:]}-R", "attachment_count": 1})
        signed_receipt = await http.post(
            "/v1/vouchers",
            files=[
                ("voucher", ("v.json", body.encode())),
                ("attachments", ("回单.pdf", sm2_signed)),
            ],
            headers=as_user(ERP),
        )

    # The same verifier checks an SM2-signed PDF: a bank's receipt signed with SM2.
    assert signed_receipt.status_code == 202, signed_receipt.text
    assert line(signed_receipt, "1-1")["outcome"] == "passed", line(signed_receipt, "1-1")
    assert bank in line(signed_receipt, "1-1")["detail"]
    [by_bank] = signed_receipt.json()["files"][1]["verified"]
    assert (by_bank["algorithm"], by_bank["trusted"]) == ("sm2_sm3", True)

    assert tampered.status_code == 422, tampered.text
    [problem] = [p for p in tampered.json()["problems"] if p["field"] == "check 1-1"]
    assert "发票.ofd" in problem["message"] and "Content.xml altered" in problem["message"]
    assert good.status_code == 202, good.text
    assert line(good, "1-1")["outcome"] == "passed", line(good, "1-1")
    assert seal in line(good, "1-1")["detail"] and hotel in line(good, "1-1")["detail"]
    assert line(good, "AAP-SIGNER-TRUSTED")["outcome"] == "passed"
    assert line(good, "AAP-INVOICE-SOURCE")["outcome"] == "passed"
    [kept] = good.json()["files"][1]["verified"]
    assert (kept["seal"], kept["algorithm"], kept["trusted"]) == (seal, "sm2_sm3", True)
    [booked] = good.json()["invoices"]
    assert (booked["invoice_number"], booked["source"]) == (number, "ofd_data")


async def test_查验_holds_a_voided_invoice_and_asks_again_what_went_unanswered(
    platform: PlatformSettings,
    permission: InProcessPermission,
) -> None:
    """财会〔2020〕6号 三(一), against the stand-in provider: 作废 holds the voucher naming it;
    the platform not answering accepts it with the gap recorded, lists it, asks again on the
    schedule and announces the answer (InvoiceVerified)."""
    from devkit.tax_standin import TAX_STANDIN_PORT, TaxPlatformStandIn
    from ingest.settings import IngestSettings

    voided, late = ("2531" + str(uuid.uuid4().int)[:16] for _ in range(2))
    xml = (SAMPLES / "attachments" / "einvoice-25312000000012345678.xml").read_bytes()
    voucher = json.loads(sample_voucher("2025-03-ji-0001.json"))
    standin = TaxPlatformStandIn()
    standin.knows(voided, "1280.00", "作废")

    async def upload(http: Any, number: str) -> Any:
        body = json.dumps({**voucher, "voucher_no": f"记-{number[-8:]}"}).encode()
        invoice = xml.replace(b"25312000000012345678", number.encode())
        return await http.post(
            "/v1/vouchers",
            files=[("voucher", ("v.json", body)), ("attachments", ("invoice.xml", invoice))],
            headers=as_user(ERP),
        )

    def line(answer: Any) -> dict[str, Any]:
        return next(r for r in answer.json()["check_report"] if r["code"] == "AAP-INVOICE-VERIFIED")

    async def listed(http: Any, who: str, **params: Any) -> Any:
        return await http.get("/v1/invoice-verifications", params=params, headers=as_user(who))

    await permission.assign(*ROLES)  # zhaomin reads Q9 too
    settings = IngestSettings(verify_retry_seconds=0.5)  # asked again within a second
    async with (
        oa_standin_serving(standin.app(), TAX_STANDIN_PORT),
        running(ingest_app(settings, permission_transport=permission.transport)) as http,
        EventWatcher(platform.kafka_bootstrap, platform.namespace, [INVOICES_VERIFIED]) as watch,
    ):
        held = await upload(http, voided)
        assert held.status_code == 202, held.text
        assert held.json()["review_required"]
        assert line(held)["outcome"] == "failed" and f"{voided}: 查验 作废" in line(held)["detail"]
        assert held.json()["invoices"][0]["verification"]["status"] == "作废"

        standin.down = True
        gap = await upload(http, late)
        assert gap.status_code == 202, gap.text
        assert not gap.json()["review_required"]  # accepted, the gap recorded
        assert line(gap)["outcome"] == "not_performed"
        waiting = (await listed(http, "zhaomin", unanswered="true")).json()["items"]
        assert [(i["invoice_number"], i["status"]) for i in waiting if i["invoice_number"] in {
            voided, late}] == [(late, "未查验")]  # fmt: skip

        standin.knows(late, "1280.00")
        standin.down = False
        [answered] = await watch.wait_for(of_type("InvoiceVerified", invoice_number=late), 30)
        assert answered.data["verification"]["status"] == "正常"
        assert answered.data["document_id"] == gap.json()["document_id"]

        mine = (await listed(http, "zhaomin", fonds_code=voucher["fonds_code"])).json()["items"]
        statuses = {i["invoice_number"]: (i["status"], i["next_at"]) for i in mine}
        assert statuses[late] == ("正常", None) and statuses[voided] == ("作废", None)
        assert late not in {
            i["invoice_number"]
            for i in (await listed(http, "zhaomin", unanswered="true")).json()["items"]
        }
        elsewhere = (await listed(http, "zhaomin", fonds_code="Q9")).json()["items"]
        assert not {voided, late} & {i["invoice_number"] for i in elsewhere}
        assert (await listed(http, "zhaomin", fonds_code="Q8")).status_code == 403
        assert (await listed(http, "outsider")).status_code == 403
        assert (await listed(http, "auditor-all")).status_code == 200


async def test_a_bank_receipt_is_booked_once_per_side(
    platform: PlatformSettings,
    permission: InProcessPermission,
) -> None:
    """A 银行电子回单 matched to the voucher's 银行存款 line is booked under its number and the
    company's account: again on another voucher of the payee, 重复入账; the payer's own
    voucher of the same transfer is its side, and is kept."""
    from devkit.sample_invoices import RECEIPT_LINES, text_pdf

    number = "2025" + str(uuid.uuid4().int)[:16]
    lines = [ln.replace("20250320104411000102", number) for ln in RECEIPT_LINES]
    receipt = text_pdf("中国工商银行 电子回单", *lines)
    received = json.loads(sample_voucher("2025-03-ji-0003.json"))
    paid = received | {
        "company_name": "杭州禾木贸易有限公司",
        "summary": "支付上海澄明货款",
        "entries": [
            {"summary": "支付货款", "account_code": "2202", "account_name": "应付账款",
             "debit": "56500.00", "credit": "0"},
            {"summary": "支付货款", "account_code": "100201", "account_name": "银行存款",
             "debit": "0", "credit": "56500.00"},
        ],
    }  # fmt: skip

    async def upload(http: Any, voucher: dict[str, Any], n: str) -> Any:
        body = json.dumps({**voucher, "voucher_no": f"记-{number[-6:]}{n}"}).encode()
        return await http.post(
            "/v1/vouchers",
            files=[("voucher", ("v.json", body)), ("attachments", ("回单.pdf", receipt))],
            headers=as_user(ERP),
        )

    async with running(ingest_app(permission_transport=permission.transport)) as http:
        first = await upload(http, received, "1")
        again = await upload(http, received, "2")
        theirs = await upload(http, paid, "3")

    assert first.status_code == 202, first.text
    [kept] = first.json()["receipts"]
    assert (kept["number"], kept["side"]) == (number, "payee")
    assert again.status_code == 422, again.text
    assert f"bank receipt {number} is already booked by its payee in record" in again.text
    assert theirs.status_code == 202, theirs.text
    assert theirs.json()["receipts"][0]["side"] == "payer"


async def test_a_fiscal_bill_is_booked_once_per_payer(
    platform: PlatformSettings,
    permission: InProcessPermission,
) -> None:
    """A 财政电子票据 is keyed by 票据代码 + 票据号码 and its payer: on a second voucher of the same
    company, 重复入账; the record keeps it."""
    from devkit.sample_invoices import FISCAL_BILL_LINES, text_pdf

    number = str(uuid.uuid4().int)[:10]
    lines = [ln.replace("0012345678", number) for ln in FISCAL_BILL_LINES]
    bill = text_pdf("上海市非税收入统一票据（电子）", *lines)
    voucher = json.loads(sample_voucher("2025-03-ji-0001.json"))

    async def upload(http: Any, n: str) -> Any:
        body = json.dumps({**voucher, "voucher_no": f"记-{number[-6:]}{n}"}).encode()
        return await http.post(
            "/v1/vouchers",
            files=[("voucher", ("v.json", body)), ("attachments", ("票据.pdf", bill))],
            headers=as_user(ERP),
        )

    async with running(ingest_app(permission_transport=permission.transport)) as http:
        first = await upload(http, "1")
        again = await upload(http, "2")

    assert first.status_code == 202, first.text
    assert first.json()["review_required"]  # read from its text: held until a signature
    [kept] = first.json()["fiscal_bills"]
    assert (kept["bill_code"], kept["bill_number"], kept["payer_id"]) == (
        "31060125", number, "91310115MA1K4XYZ0P"
    )  # fmt: skip
    assert again.status_code == 422, again.text
    assert f"fiscal e-bill 31060125-{number} is already booked by its payer in record" in again.text


async def test_an_erp_journal_becomes_vouchers_linked_to_the_stored_export(
    platform: PlatformSettings,
    permission: InProcessPermission,
) -> None:
    journal = (SAMPLES / "journals" / "yonyou-u8-2025-04.csv").read_bytes()
    fonds = "J" + secrets.token_hex(3).upper()  # a fonds of its own: its vouchers are new
    form = {"profile": "yonyou-u8", "fonds_code": fonds, "company_name": "上海澄明科技有限公司"}
    async with (
        running(ingest_app(permission_transport=permission.transport)) as http,
        EventWatcher(platform.kafka_bootstrap, platform.namespace, [DOCUMENTS_INGESTED]) as watch,
    ):
        r = await http.post(
            "/v1/journals",
            files={"journal": ("u8-2025-04.csv", journal)},
            data=form,
            headers=as_user(ERP),
        )
        assert r.status_code == 200, r.text
        body = r.json()
        ids = [v["document_id"] for v in body["vouchers"]]
        events = [
            (await watch.wait_for(of_type("DocumentIngested", document_id=i)))[0] for i in ids
        ]
        wrong = await http.post(
            "/v1/journals",
            files={"journal": ("u8.csv", journal)},
            data={**form, "profile": "sap"},
            headers=as_user(ERP),
        )

    assert [v["voucher_no"] for v in body["vouchers"]] == ["记-0001", "记-0002", "记-0003"]
    # Each declares paper attachments (附单据数) that the journal cannot carry: held for review.
    assert body["held_for_review"] == 3 and body["rejected"] == 0
    sources = {e.data["source_export"]["sha256"] for e in events}
    assert sources == {hashlib.sha256(journal).hexdigest()}
    assert events[0].data["voucher"]["summary"] == "计提3月工资"
    assert (
        wrong.status_code == 422 and "known: ['kingdee-k3', 'yonyou-u8']" in wrong.json()["detail"]
    )


async def test_the_xml_export_needs_no_profile(
    platform: PlatformSettings, permission: InProcessPermission
) -> None:
    export = (SAMPLES / "journals" / "erp-export-2025-05.xml").read_bytes()
    export = export.replace(b'fonds_code="Q001"', f'fonds_code="X{secrets.token_hex(3)}"'.encode())
    async with running(ingest_app(permission_transport=permission.transport)) as http:
        r = await http.post(
            "/v1/journals",
            files={"journal": ("erp-2025-05.xml", export)},
            headers=as_user(ERP),
        )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [v["voucher_no"] for v in body["vouchers"]] == ["记-0001", "记-0002"]
    assert body["accepted"] == 2
    assert body["vouchers"][0]["source_export"]["media_type"] == "application/xml"


async def test_an_archive_package_is_checked_whole_then_taken_voucher_by_voucher(
    platform: PlatformSettings,
    permission: InProcessPermission,
) -> None:
    import io
    import zipfile

    number = "2531" + str(uuid.uuid4().int)[:16]
    voucher = json.loads(sample_voucher("2025-03-ji-0001.json"))
    files = {
        "v/记-0001.json": json.dumps(voucher, ensure_ascii=False).encode(),
        "v/记-0001/发票.xml": (SAMPLES / "attachments" / "einvoice-25312000000012345678.xml")
        .read_bytes()
        .replace(b"25312000000012345678", number.encode()),
    }

    def zipped(manifest_files: dict[str, bytes]) -> bytes:
        listed = [
            {"path": p, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
            for p, d in manifest_files.items()
        ]
        man = {
            "format": "aap.package.v1",
            "files": listed,
            "vouchers": [{"voucher": "v/记-0001.json", "attachments": ["v/记-0001/发票.xml"]}],
        }
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("manifest.json", json.dumps(man, ensure_ascii=False))
            for p, d in files.items():
                z.writestr(p, d)
        return buf.getvalue()

    async with running(ingest_app(permission_transport=permission.transport)) as http:
        bad = await http.post(
            "/v1/packages",
            files={"package": ("p.zip", zipped({**files, "v/记-0001.json": b"{}"}))},
            headers=as_user(ERP),
        )
        good = await http.post(
            "/v1/packages", files={"package": ("p.zip", zipped(files))}, headers=as_user(ERP)
        )
    assert bad.status_code == 422
    assert [r["code"] for r in bad.json()["package_report"] if r["outcome"] == "failed"] == [
        "1-14",
        "2-2",
    ]
    assert good.status_code == 200, good.text
    assert good.json()["accepted"] == 1
    assert good.json()["vouchers"][0]["invoices"][0]["invoice_number"] == number


async def test_the_virus_scan_asks_the_real_clamd(
    platform: PlatformSettings, permission: InProcessPermission
) -> None:
    """deploy/local/infra.sh runs clamd with a test signature (deploy/local/clamav/aap-test.ndb)."""
    from ingest.settings import IngestSettings

    voucher = sample_voucher(attachment_count=2)
    pdf = (SAMPLES / "attachments" / "bank-receipt-20250320-0004411.pdf").read_bytes()
    infected = pdf.replace(b"%%EOF", b"% AAP-TEST-SIGNATURE-DO-NOT-ARCHIVE\n%%EOF")
    settings = IngestSettings(clamd_address="127.0.0.1:13310")
    async with running(ingest_app(settings, permission_transport=permission.transport)) as http:
        ok = await http.post(
            "/v1/vouchers",
            files=[
                ("voucher", ("v.json", sample_voucher(attachment_count=1))),
                ("attachments", ("a.pdf", pdf)),
            ],
            headers=as_user(ERP),
        )
        # Two attachments of one name, the second carrying the test signature: each is scanned
        # and named on its own, so the clean twin's result never stands for the infected one.
        bad = await http.post(
            "/v1/vouchers",
            files=[
                ("voucher", ("v.json", voucher)),
                ("attachments", ("a.pdf", pdf)),
                ("attachments", ("a.pdf", infected)),
            ],
            headers=as_user(ERP),
        )
    assert ok.status_code == 202, ok.text
    assert next(c for c in ok.json()["check_report"] if c["code"] == "4-2")["outcome"] == "passed"
    assert bad.status_code == 422, bad.text
    scan = next(c for c in bad.json()["check_report"] if c["code"] == "4-2")
    [finding] = scan["findings"]
    assert finding["message"] == "AAP.Test.Signature.UNOFFICIAL found"
    assert finding["file"] == {
        "position": 2,
        "filename": "a.pdf",
        "sha256": hashlib.sha256(infected).hexdigest(),
    }


async def test_the_security_administrator_changes_roles_and_the_services_follow_at_once(
    platform: PlatformSettings, permission: InProcessPermission
) -> None:
    """Roles are the permission service's data, changed through its API by the security
    administrator only; the audit service, which caches them, follows each change as it is
    announced (well within its cache's minute), and the trail keeps who changed what."""
    role = "/v1/role-assignments/wangfang/auditor/*"
    async with (
        running(audit_app(permission_transport=permission.transport)) as audit,
        EventWatcher(
            platform.kafka_bootstrap, platform.namespace, [ROLES_ASSIGNED, ROLES_REVOKED]
        ) as watch,
    ):

        async def trail_answers(status: int) -> None:
            deadline = time.monotonic() + 20
            while (
                r := await audit.get("/v1/entries", headers=as_user("wangfang"))
            ).status_code != status:
                assert time.monotonic() < deadline, r.text
                await asyncio.sleep(0.1)

        await trail_answers(403)  # and the refusal's roles are now cached
        for who in ("zhaomin", "sysadmin", "secauditor", "wangfang"):
            r = await permission.http.put(role, headers=as_user(who))
            assert r.status_code == 403, (who, r.text)
        assigned = await permission.http.put(role, headers=as_user("secadmin"))
        assert assigned.status_code == 201, assigned.text
        [event] = await watch.wait_for(of_type("RoleAssigned", user="wangfang"))
        assert (event.data["role"], event.data["fonds_code"], event.data["assigned_by"]) == (
            "auditor",
            "*",
            "secadmin",
        )
        await trail_answers(200)
        again = await permission.http.put(role, headers=as_user("secadmin"))
        assert again.status_code == 200  # held already: nothing changes, nothing announced

        # 三员分立: the security auditor cannot also become the system administrator.
        two = await permission.http.put(
            "/v1/role-assignments/secauditor/system_admin/*", headers=as_user("secadmin")
        )
        assert two.status_code == 409 and "三员分立" in two.json()["detail"]
        unknown = await permission.http.put(
            "/v1/role-assignments/wangfang/superuser/*", headers=as_user("secadmin")
        )
        assert unknown.status_code == 422

        revoked = await permission.http.delete(role, headers=as_user("secadmin"))
        assert revoked.status_code == 204
        await watch.wait_for(of_type("RoleRevoked", user="wangfang"))
        await trail_answers(403)
        assert (await permission.http.delete(role, headers=as_user("secadmin"))).status_code == 404
        kinds = [s.event.type for s in watch.seen if s.event.data["user"] == "wangfang"]
        assert kinds == ["cn.aap.RoleAssigned.v1", "cn.aap.RoleRevoked.v1"]

        await consumed(
            platform.kafka_bootstrap, platform.namespace, "audit", [ROLES_ASSIGNED, ROLES_REVOKED]
        )
        kept = await audit.get(
            "/v1/entries",
            params={"event_type": "cn.aap.RoleAssigned.v1", "actor": "secadmin"},
            headers=as_user("secauditor"),
        )
        assert any(e["subject"] == "wangfang" for e in kept.json()["items"]), kept.text


async def test_uploads_are_for_accountants_and_the_erp_each_in_their_fonds(
    permission: InProcessPermission,
) -> None:
    async with running(ingest_app(permission_transport=permission.transport)) as http:

        async def upload(who: str, fonds: str) -> httpx.Response:
            voucher = sample_voucher(fonds_code=fonds)
            return await http.post(
                "/v1/vouchers", files={"voucher": ("v.json", voucher)}, headers=as_user(who)
            )

        for nobody in ("wangfang", "zhaomin", "sysadmin"):  # a borrower, an archivist, an admin
            r = await upload(nobody, "Q001")
            assert r.status_code == 403, (nobody, r.text)
            assert "uploads are for accountants and the ERP integration" in r.json()["detail"]
        elsewhere = await upload("lijing", "Q002")
        assert elsewhere.status_code == 403
        detail = elsewhere.json()["detail"]  # other tests may have given lijing more fonds
        assert detail.startswith("lijing may upload into fonds Q001") and detail.endswith(
            "only, not Q002"
        )
        assert (await upload("lijing", "Q001")).status_code == 202
        assert (await upload(ERP, "Q002")).status_code == 202  # the ERP of the whole group


async def test_the_security_administrator_withdraws_a_grant_before_its_time(
    platform: PlatformSettings, permission: InProcessPermission
) -> None:
    request = uuid.uuid4()
    archive_calls = as_user("client:aap-archive")
    async with (
        EventWatcher(
            platform.kafka_bootstrap, platform.namespace, [ACCESS_GRANTED, ACCESS_REVOKED]
        ) as watch,
        EventSender(platform.kafka_bootstrap, platform.namespace) as out,
    ):
        record = await archived(platform, out, "Q001")
        await consumed(
            platform.kafka_bootstrap, platform.namespace, "permission", [RECORDS_ARCHIVED]
        )
        decided = approved_borrowing("wangfang", (record,), request, timedelta(days=7))
        ask = WANGFANG | {"action": "read", "resource": f"record:{record}"}
        await out.send(
            new_event(
                decided, source=source_of("approval"), subject=str(request), correlation_id="c"
            )
        )
        [granted] = await watch.wait_for(of_type("AccessGranted", request_id=str(request)))
        grant = granted.data["grant_id"]
        url = f"/v1/grants/{grant}/withdrawal"
        for who in ("wangfang", "zhaomin", "secauditor"):
            assert (await permission.http.post(url, headers=as_user(who))).status_code == 403
        withdrawn = await permission.http.post(url, headers=as_user("secadmin"))
        assert withdrawn.status_code == 200, withdrawn.text
        [revoked] = await watch.wait_for(of_type("AccessRevoked", grant_id=grant))
    assert (revoked.data["reason"], revoked.data["revoked_by"]) == ("withdrawn", "secadmin")
    check = (await permission.http.get("/v1/check", params=ask, headers=archive_calls)).json()
    assert check["allowed"] is False and "no longer active" in check["reason"]
    again = await permission.http.post(url, headers=as_user("secadmin"))
    assert again.status_code == 409


async def test_the_security_administrator_cannot_make_an_administrator_a_reader_of_records(
    permission: InProcessPermission,
) -> None:
    """Once, the security administrator made the system administrator archivist of every fonds
    and the security auditor archivist of Q001 (201 each), and both read Q001's records."""
    for who, role, fonds in (("sysadmin", "archivist", "*"), ("secauditor", "archivist", "Q001")):
        r = await permission.http.put(
            f"/v1/role-assignments/{who}/{role}/{fonds}", headers=as_user("secadmin")
        )
        assert r.status_code == 409, r.text
        assert "no business role (三员分立)" in r.json()["detail"]
        held = await permission.http.get(f"/v1/roles/{who}", headers=as_user(who))
        assert role not in {h["role"] for h in held.json()}
    # Nor a name a token could not carry (a path trick in the role lookup).
    for odd in ("secauditor%23x", "secauditor%3Fx", "Secauditor"):
        r = await permission.http.put(
            f"/v1/role-assignments/{odd}/archivist/Q001", headers=as_user("secadmin")
        )
        assert r.status_code == 422, r.text


async def test_of_two_administrative_roles_given_to_one_principal_at_once_one_is_held(
    permission: InProcessPermission,
) -> None:
    """三员分立 holds under concurrency: both requests pass the check against what is held, and
    the database's unique key decides."""
    for _ in range(10):
        who = f"admin-race-{secrets.token_hex(3)}"
        answers = await asyncio.gather(
            *(
                permission.http.put(
                    f"/v1/role-assignments/{who}/{role}/*", headers=as_user("secadmin")
                )
                for role in ("system_admin", "security_auditor")
            )
        )
        assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
        held = await permission.http.get("/v1/role-assignments", headers=as_user("secadmin"))
        assert len([a for a in held.json() if a["user"] == who]) == 1
    # A role revoked frees its holder for another administrative role.
    who = f"admin-moved-{secrets.token_hex(3)}"
    for method, role, status in (
        ("PUT", "system_admin", 201),
        ("PUT", "security_auditor", 409),
        ("DELETE", "system_admin", 204),
        ("PUT", "security_auditor", 201),
    ):
        r = await permission.http.request(
            method, f"/v1/role-assignments/{who}/{role}/*", headers=as_user("secadmin")
        )
        assert r.status_code == status, (method, role, r.text)


async def dead_letters_shown(http: httpx.AsyncClient, expected: int) -> None:
    """Waits until readiness shows ``expected`` dead letters (re-counted every 10 s)."""
    deadline = time.monotonic() + 30
    while (ready := (await http.get("/readyz")).json())["details"]["dead_letters"] != expected:
        assert time.monotonic() < deadline, ready
        await asyncio.sleep(0.2)


async def test_the_system_administrator_redrives_dead_letters_once_their_cause_is_mended(
    platform: PlatformSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No silent gaps: a service's dead letters are counted where an operator looks, and the
    system administrator re-drives them once their cause is mended, once each, on record."""
    # A namespace of its own: its dead-letter topics hold only what this test sets aside.
    ns = "dl" + secrets.token_hex(3)
    await provision(platform, ns)
    for name, value in pg_access.namespace_env(ns).items():  # its own databases' roles
        monkeypatch.setenv(name, value)
    mine = platform.model_copy(update={"namespace": ns})

    async def a_bug(self: PermissionService, event: AnyEnvelope) -> None:
        raise RuntimeError("a bug in this release")

    # The release running has a bug in its handler of approval decisions.
    monkeypatch.setattr(PermissionService, "on_approval_decided", a_bug)
    request = uuid.uuid4()
    async with (
        running(permission_app(PermissionSettings(platform=mine))) as http,
        EventSender(mine.kafka_bootstrap, ns) as out,
        EventWatcher(mine.kafka_bootstrap, ns, [ACCESS_GRANTED, redrives("permission")]) as watch,
    ):
        record = await archived(mine, out, "Q001")
        decided = approved_borrowing("wangfang", (record,), request, timedelta(days=1))
        genuine = await out.send(
            new_event(
                decided, source=source_of("approval"), subject=str(request), correlation_id="c"
            )
        )
        await out.send_raw(APPROVALS_DECIDED.name(ns), b"{not json")  # poison, whatever the fix
        await consumed(mine.kafka_bootstrap, ns, "permission", [APPROVALS_DECIDED])

        # Both set aside, the consumer going on: the operator sees them.
        await dead_letters_shown(http, 2)
        metrics = (await http.get("/metrics")).text
        assert f'aap_dead_letters{{service="permission",group="{ns}.permission"}} 2' in metrics
        ask = WANGFANG | {"action": "read", "resource": f"record:{record}"}
        check = await http.get("/v1/check", params=ask, headers=as_user("client:aap-archive"))
        assert check.json()["allowed"] is False

        # The fix is deployed.
        monkeypatch.undo()

        # Only the system administrator of every fonds re-drives: a fonds' letters are every
        # fonds'.
        one_fonds = await http.put(
            "/v1/role-assignments/outsider/system_admin/Q001", headers=as_user("secadmin")
        )
        assert one_fonds.status_code == 201, one_fonds.text
        for who in ("zhaomin", "secadmin", "wangfang", "outsider"):
            refused = await http.post("/v1/dead-letters/redrive", headers=as_user(who))
            assert refused.status_code == 403, (who, refused.text)
        assert "system administrator of every fonds" in refused.json()["detail"]
        answer = await http.post("/v1/dead-letters/redrive", headers=as_user("sysadmin"))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        # Both handed over again, where they were first read; the poison failed again and is
        # set aside again: the one left.
        assert {d["topic"] for d in body["redriven"]} == {APPROVALS_DECIDED.name(ns)}
        assert sorted(d["error_type"] for d in body["redriven"]) == [
            "JSONDecodeError",
            "RuntimeError",
        ]
        assert (body["remaining"], body["finished"]) == (1, True)
        # What each letter was, as the operator is shown it.
        [bug] = [d for d in body["redriven"] if d["error_type"] == "RuntimeError"]
        assert (bug["event_type"], bug["source"], bug["subject"], bug["reason"]) == (
            "cn.aap.ApprovalDecided.v2",
            "/aap/approval",
            str(request),
            "a bug in this release",
        )
        [granted] = await watch.wait_for(of_type("AccessGranted", request_id=str(request)))
        check = await http.get("/v1/check", params=ask, headers=as_user("client:aap-archive"))
        assert check.json()["allowed"] is True

        # On record: who re-drove what, and what is left.
        [redriven] = await watch.wait_for(of_type("DeadLettersRedriven"))
        assert redriven.data["principal"] == "sysadmin"
        assert redriven.data["group"] == f"{ns}.permission"
        assert len(redriven.data["letters"]) == 2 and redriven.data["remaining"] == 1
        assert redriven.source == source_of("permission")

        # Letters that are none: one forged by whoever holds this service's own Kafka password
        # (the only principal that may write its dead letters), pointing at the decision above
        # but carrying an approval for another employee; one that names another topic; one
        # without its position. Each is skipped and said so; none stops the re-drive.
        forged = approved_borrowing("wangqiang", (record,), uuid.uuid4(), timedelta(days=30))
        dead = APPROVALS_DECIDED.dead_letter(ns, "permission")
        pointing = {
            "x-dlt-group": f"{ns}.permission",
            "x-dlt-original-topic": APPROVALS_DECIDED.name(ns),
            "x-dlt-original-partition": str(genuine.partition),
            "x-dlt-original-offset": str(genuine.offset),
            "x-dlt-error-type": "RuntimeError",
        }
        forged_event = new_event(
            forged, source=source_of("approval"), subject=str(request), correlation_id="c"
        )
        await out.send_raw(
            dead, forged_event.model_dump_json().encode(), key=b"f1", headers=pointing
        )
        elsewhere = pointing | {"x-dlt-original-topic": ROLES_ASSIGNED.name(ns)}
        await out.send_raw(dead, b"{}", key=b"f2", headers=elsewhere)
        await out.send_raw(dead, b"{}", key=b"f3", headers={"x-dlt-group": f"{ns}.permission"})

        # Once each: a second re-drive hands over only the poison set aside again, and the
        # decision re-driven before makes no second grant.
        again = (await http.post("/v1/dead-letters/redrive", headers=as_user("sysadmin"))).json()
        assert [d["error_type"] for d in again["redriven"]] == ["JSONDecodeError"]
        assert again["remaining"] == 1
        assert again["finished"] is True
        assert sorted(s["why"] for s in again["skipped"]) == [
            f"is not the message {APPROVALS_DECIDED.name(ns)} holds at partition "
            f"{genuine.partition} offset {genuine.offset}: a forged letter",
            "names no original topic, partition and offset",
            f"names topic {ROLES_ASSIGNED.name(ns)!r}, but lies on the dead letters of "
            f"{APPROVALS_DECIDED.name(ns)}",
        ]
        forged_ask = ask | {"user": "wangqiang", "subject": subject_of("wangqiang")}
        check = await http.get(
            "/v1/check", params=forged_ask, headers=as_user("client:aap-archive")
        )
        assert check.json()["allowed"] is False
        await dead_letters_shown(http, 1)
        grants = (await http.get("/v1/grants", headers=as_user("wangfang"))).json()
        assert [g["grant_id"] for g in grants if str(record) in g["record_ids"]] == [
            granted.data["grant_id"]
        ]
    await discard(platform, ns)


async def test_a_batch_the_audit_log_could_not_write_is_recorded_once_redriven(
    platform: PlatformSettings, permission: InProcessPermission, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit consumer takes batches: a batch it cannot write (a bug) is set aside record by
    record, the consumer going on; re-driven after the fix, each event is recorded once and the
    log verifies."""
    ns = "ar" + secrets.token_hex(3)  # its dead letters and its log hold only this test's
    await provision(platform, ns)
    for name, value in pg_access.namespace_env(ns).items():  # its own databases' roles
        monkeypatch.setenv(name, value)
    mine = platform.model_copy(update={"namespace": ns})

    async def a_bug(self: Checkpoints, events: object) -> None:
        raise RuntimeError("a bug in this release")

    monkeypatch.setattr(Checkpoints, "record_all", a_bug)
    sent = [
        new_event(
            RoleAssigned(
                user=f"u{n}",
                role="auditor",
                fonds_code="Q9",
                assigned_by="secadmin",
                assigned_at=datetime.now(UTC),
            ),
            source=source_of("permission"),
            subject=f"u{n}",
            correlation_id="c",
        )
        for n in range(3)
    ]
    async with (
        running(
            audit_app(AuditSettings(platform=mine), permission_transport=permission.transport)
        ) as http,
        EventSender(mine.kafka_bootstrap, ns) as out,
    ):
        for event in sent:
            await out.send(event)
        await consumed(mine.kafka_bootstrap, ns, "audit", [ROLES_ASSIGNED])
        await dead_letters_shown(http, 3)
        monkeypatch.undo()  # the fix deployed

        answer = await http.post("/v1/dead-letters/redrive", headers=as_user("sysadmin"))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert [d["error_type"] for d in body["redriven"]] == ["RuntimeError"] * 3
        assert (body["remaining"], body["finished"]) == (0, True)
        again = await http.post("/v1/dead-letters/redrive", headers=as_user("sysadmin"))
        assert again.json()["redriven"] == []

        trail = (
            await http.get(
                "/v1/entries",
                params={"event_type": "cn.aap.RoleAssigned.v1"},
                headers=as_user("secauditor"),
            )
        ).json()["items"]
        assert sorted(e["event_id"] for e in trail) == sorted(str(e.id) for e in sent)
        assert (await http.get("/v1/verify", headers=as_user("secauditor"))).json()["ok"] is True
    await discard(platform, ns)
