"""Every statement the adapters issue, on the real server, as each service's runtime role.

Each adapter method is called (``exercise``; a test fails if one is left out) on databases made
by the migrations alone: a statement the schema cannot serve, or a privilege the migrations did
not grant, fails here. Executing a statement is a stronger check than PREPARE, which plans it but
checks no privilege. Then every table that grows with use is seeded with 100,000 rows, analysed,
the methods called again, and each statement they issued EXPLAINed with the parameters it was
issued with: a sequential scan of a growing table fails the test, unless the statement is listed
below as a deliberate full read, with why.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row

from approval.adapters.record_titles import RecordTitles
from approval.adapters.requests import Nonces, Requests
from approval.domain.borrowing import BorrowingRequest, Decision
from approval.domain.oa_states import Outcome
from approval.vendors.events import Step
from archive.adapters.approval_links import ApprovalLinksStore
from archive.adapters.corrections import WaitingCorrections
from archive.adapters.handovers import Handovers
from archive.adapters.holds import Holds
from archive.adapters.paper_volumes import PaperVolumes
from archive.adapters.records import Records
from archive.adapters.reviews import Reviews
from archive.adapters.years import Years
from archive.domain.approval_record import Waiting
from archive.domain.corrections import WaitingCorrection
from archive.domain.lifecycle import HandoverOffer, LegalHold
from archive.domain.volumes import BoundVolume
from audit.adapters.log_store import LogStore
from audit.adapters.tree_store import TreeNodes
from contracts.envelope import new_event
from contracts.events import (
    ApprovalDecided,
    ApprovalRecordLinked,
    BusinessKey,
    GapWaived,
    OaApprovalCompleted,
    PaperVolumeRegistered,
    RecordReviewed,
    RecordsHandedOver,
    RoleAssigned,
)
from contracts.records import (
    CorrectionKind,
    CorrectionLink,
    InvoiceStatus,
    InvoiceVerification,
    MaterialDescription,
    RecordCategory,
)
from devkit import pg_access
from devkit.identity import ISSUER
from devkit.samples import archived_record, ingested_document, stored_file
from ingest.adapters.invoice_bookings import InvoiceBookings
from ingest.adapters.submissions import Submissions
from ingest.adapters.verifications import Verifications
from ingest.adapters.voucher_keys import VoucherKeys
from ingest.ports import InvoiceQuery, Verification
from permission.adapters.grants import Grants
from permission.adapters.roles import Roles
from permission.domain.access import Grant, RoleAssignment
from servicekit.auth import Person
from servicekit.database import Pool, conninfo
from servicekit.idempotency import ProcessedEvents
from servicekit.outbox import Outbox
from servicekit.settings import PlatformSettings

ROWS = 100_000
NOW = datetime.now(UTC)

# Statements that read a whole table on purpose (matched by their text), and why.
DELIBERATE_FULL_READS = {
    "FROM role_assignments WHERE held\n": "the list of every role held, for the security "
    "administrator and the role seed; as long as the organisation's people, not its records",
    "SELECT 1 FROM role_assignments LIMIT 1": "whether any role is held at all: stops at the "
    "first row",
}

# A broker down for a while: events wait in the outbox. The exercise's relay sends them on and
# empties it; its statements are judged as they ran, at 100,000 waiting, so the server must not
# analyse the emptied table before they are EXPLAINed (autovacuum would, some runs).
OUTBOX_SEED = (
    "INSERT INTO outbox (event_id, event_type, topic, key, body) SELECT gen_random_uuid(), 't', "
    "'t', '\\x00', '\\x00' FROM generate_series(1, %(rows)s) i"
)
OUTBOX_KEPT_AS_SEEDED = "ALTER TABLE outbox SET (autovacuum_enabled = false)"

# What each growing table is seeded with: ROWS rows, none of them what the exercise asks for,
# as they accumulate (callback nonces are kept for 15 minutes: a busy quarter-hour's worth).
SEEDS: dict[str, list[str]] = {
    "ingest": [
        "INSERT INTO submissions SELECT gen_random_uuid(), 'accepted', now() - i * interval "
        "'1 minute', 'erp', '{}' FROM generate_series(1, %(rows)s) i",
        "INSERT INTO voucher_keys SELECT 'seed|' || i, gen_random_uuid(), 'f', '{}', "
        "now() - i * interval '1 minute' FROM generate_series(1, %(rows)s) i",
        "INSERT INTO invoice_bookings SELECT 'seed-' || i, gen_random_uuid(), 'S' || i %% 50, "
        "now() FROM generate_series(1, %(rows)s) i",
        "INSERT INTO processed_events SELECT 'seed-' || i %% 5, 'e' || i, 't', now() - i * "
        "interval '1 second' FROM generate_series(1, %(rows)s) i",
        "INSERT INTO invoice_verifications SELECT gen_random_uuid(), 'seed-' || i, "
        "'S' || i %% 50, jsonb_build_object('number', 'seed-' || i, 'code', NULL, 'issue_date', "
        "'2025-01-01', 'total', '1.00', 'seller_tax_id', 'x'), '正常', '', 'p', "
        "now() - i * interval '1 minute', 1, NULL FROM generate_series(1, %(rows)s) i",
        OUTBOX_SEED,
        OUTBOX_KEPT_AS_SEEDED,
    ],
    "archive": [
        "INSERT INTO records (record_id, archive_code, fonds_code, fiscal_year, period, "
        "voucher_no, category, archived_at, retention_until, review_required, versions, custody, "
        "awaiting_review, event) SELECT gen_random_uuid(), 'S-' || i, 'S' || i %% 50, "
        "2000 + i %% 25, 1 + i %% 12, '记-' || i, '会计凭证', now(), "
        "date '2030-01-01' + i %% 3650, false, '[]', "
        "CASE WHEN i %% 10 = 0 THEN 'accounting' ELSE 'archive' END, false, %(record)s "
        "FROM generate_series(1, %(rows)s) i",  # one record's fact for all: read, not searched
        "INSERT INTO sequences SELECT 'seed|' || i, i FROM generate_series(1, %(rows)s) i",
        "INSERT INTO sequence_claims SELECT 'seed|' || i %% 1000, i, 'h' || i "
        "FROM generate_series(1, %(rows)s) i",
        "INSERT INTO voucher_keys SELECT 'seed|' || i, gen_random_uuid() "
        "FROM generate_series(1, %(rows)s) i",
        "INSERT INTO handovers SELECT gen_random_uuid(), 'S' || i %% 50, 2000 + i %% 25, '{}', "
        "'[]', true FROM generate_series(1, %(rows)s) i",
        "INSERT INTO handover_claims SELECT gen_random_uuid(), gen_random_uuid() "
        "FROM generate_series(1, %(rows)s) i",
        "INSERT INTO volumes SELECT 'S' || i %% 50, 2000 + i %% 25, i, 1, 'D30', "
        "ARRAY[gen_random_uuid()], gen_random_uuid() FROM generate_series(1, %(rows)s) i",
        "INSERT INTO handover_offers SELECT gen_random_uuid(), 'S' || i %% 50, 2000 + i %% 25, "
        "'u', now(), gen_random_uuid() FROM generate_series(1, %(rows)s) i",
        "INSERT INTO hold_changes SELECT gen_random_uuid(), 1, NULL "
        "FROM generate_series(1, %(rows)s) i",
        "INSERT INTO reviews SELECT gen_random_uuid(), '{}' FROM generate_series(1, %(rows)s) i",
        "INSERT INTO paper_volumes SELECT gen_random_uuid(), 'S' || i %% 50, 2000 + i %% 25, "
        "'t', 'l', ARRAY[gen_random_uuid()], 'u', now() FROM generate_series(1, %(rows)s) i",
        "INSERT INTO corrections_waiting SELECT 'seed|' || i, 'S' || i %% 50, "
        "gen_random_uuid(), '注销' FROM generate_series(1, %(rows)s) i",
        "INSERT INTO gap_waivers SELECT 'S' || i %% 50, 2000 + i %% 25, 'g' || i, '{}' "
        "FROM generate_series(1, %(rows)s) i",
        "INSERT INTO approval_records SELECT gen_random_uuid(), '{}' "
        "FROM generate_series(1, %(rows)s) i",
        "INSERT INTO approval_link_keys SELECT 'seed|' || i, 'voucher', gen_random_uuid() "
        "FROM generate_series(1, %(rows)s) i",
        "INSERT INTO approval_links SELECT gen_random_uuid(), 'p' || i, '{}' "
        "FROM generate_series(1, %(rows)s) i",
        "INSERT INTO awaiting_approval SELECT gen_random_uuid(), 'S' || i %% 50, 'c' || i, 'v', "
        "'s', now() FROM generate_series(1, %(rows)s) i",
        "INSERT INTO processed_events SELECT 'seed-' || i %% 5, 'e' || i, 't', now() "
        "FROM generate_series(1, %(rows)s) i",
        OUTBOX_SEED,
        OUTBOX_KEPT_AS_SEEDED,
    ],
    "approval": [
        "INSERT INTO borrowing_requests SELECT gen_random_uuid(), 'u' || i %% 1000, "
        "'S' || i %% 50, 'seeyon', ARRAY[gen_random_uuid()], 'r', 7, now() - i * interval "
        "'1 minute', 'inst' || i, NULL, i %% 100 = 0 FROM generate_series(1, %(rows)s) i",
        "INSERT INTO request_changes SELECT request_id, 1, 'seeyon', 'approved', 'a', '', "
        "oa_instance_id, now(), '[]' FROM borrowing_requests WHERE reason = 'r'",
        "INSERT INTO oa_instances SELECT 'seeyon', 'inst' || i, gen_random_uuid(), '{}', '[]' "
        "FROM generate_series(1, %(rows)s) i",
        "INSERT INTO callback_nonces SELECT 'seed-' || i, now() - i %% 900 * interval '1 second' "
        "FROM generate_series(1, %(rows)s) i",
        "INSERT INTO record_titles SELECT gen_random_uuid(), 't', 'S' || i %% 50 "
        "FROM generate_series(1, %(rows)s) i",
        "INSERT INTO processed_events SELECT 'seed-' || i %% 5, 'e' || i, 't', now() "
        "FROM generate_series(1, %(rows)s) i",
        OUTBOX_SEED,
        OUTBOX_KEPT_AS_SEEDED,
    ],
    "permission": [
        "INSERT INTO grants SELECT gen_random_uuid(), 'u' || i %% 5000, '{read}', "
        "'S' || i %% 50, ARRAY[gen_random_uuid()], now() - interval '30 days', "
        "now() - interval '1 day' + i * interval '1 second', gen_random_uuid(), "
        "CASE WHEN i %% 10 = 0 THEN NULL ELSE now() END FROM generate_series(1, %(rows)s) i",
        "INSERT INTO record_scopes SELECT gen_random_uuid(), 'S' || i %% 50 "
        "FROM generate_series(1, %(rows)s) i",
        "INSERT INTO people SELECT 'iss', 'sub' || i, 'u' || i, now() "
        "FROM generate_series(1, %(rows)s) i",
        "INSERT INTO role_assignments (principal, role, fonds_code, held, issuer, subject) "
        "SELECT 'u' || i, 'accountant', 'S' || i %% 50, true, CASE WHEN i %% 2 = 0 THEN 'iss' END, "
        "CASE WHEN i %% 2 = 0 THEN 'sub' || i END FROM generate_series(1, %(rows)s) i",
        "INSERT INTO processed_events SELECT 'seed-' || i %% 5, 'e' || i, 't', now() "
        "FROM generate_series(1, %(rows)s) i",
        OUTBOX_SEED,
        OUTBOX_KEPT_AS_SEEDED,
    ],
    "audit": [
        "INSERT INTO entries SELECT 1000 + i, 'seed-' || i, 'cn.aap.Seed' || i %% 20 || '.v1', "
        "'u' || i %% 1000, to_char(now() - i * interval '1 minute', "
        '\'YYYY-MM-DD"T"HH24:MI:SS"Z"\'), ARRAY[gen_random_uuid()::text], '
        "ARRAY['S' || i %% 50], jsonb_build_object('request_id', 'r' || i, 'grant_id', "
        "'g' || i, 'record_id', 'x' || i, 'decision', 'approved'), "
        "jsonb_build_object('seq', 1000 + i, 'event_id', 'seed-' || i)::text "
        "FROM generate_series(1, %(rows)s) i",
        "INSERT INTO tree_nodes SELECT 0, 1000 + i, '\\x00' FROM generate_series(1, %(rows)s) i",
        "INSERT INTO processed_events SELECT 'seed-' || i %% 5, 'e' || i, 't', now() "
        "FROM generate_series(1, %(rows)s) i",
        OUTBOX_SEED,
        OUTBOX_KEPT_AS_SEEDED,
    ],
}
GROWING = {s.split()[2] for seeds in SEEDS.values() for s in seeds}


class Recording(AsyncConnection[DictRow]):
    """A connection that notes each statement it is given, with its parameters."""

    issued: ClassVar[list[tuple[str, str, Any]]] = []  # (database, statement, parameters)

    async def execute(self, query: Any, params: Any = None, **options: Any) -> Any:
        Recording.issued.append((self.info.dbname, str(query), params))
        return await super().execute(query, params, **options)


class Tracked:
    """An adapter whose methods called are noted: none may be left out of the exercise."""

    def __init__(self, adapter: object) -> None:
        self.adapter, self.called = adapter, set[str]()

    def __getattr__(self, name: str) -> Any:
        self.called.add(name)
        return getattr(self.adapter, name)

    def uncalled(self) -> set[str]:
        cls = type(self.adapter)
        methods = {
            n
            for n, f in inspect.getmembers(cls)
            if not n.startswith("_")
            and (inspect.iscoroutinefunction(f) or inspect.isasyncgenfunction(f))
        }
        return methods - self.called


@pytest.fixture(scope="module")
async def stack(
    platform: PlatformSettings,
) -> AsyncIterator[tuple[PlatformSettings, dict[str, Any]]]:
    """Every service's database, made by the migrations alone, and a recording pool of each
    signed in as the service's runtime role."""
    mine = platform.model_copy(update={"namespace": "q" + secrets.token_hex(3)})
    pg_access.apply(mine, mine.namespace)
    pools: dict[str, Any] = {}
    try:
        for service in pg_access.SERVICES:
            role = pg_access.runtime_role(mine.namespace, service)
            info = conninfo(mine, mine.database_name(service), role, pg_access.password(role))
            pool = Pool(
                info, connection_class=Recording, kwargs={"row_factory": dict_row}, open=False
            )
            await pool.open()
            pools[service] = pool
        yield mine, pools
    finally:
        for pool in pools.values():
            await pool.close()
        pg_access.remove(mine, mine.namespace)


async def exercise(pools: dict[str, Any], run: str) -> list[Tracked]:
    """Call every method of every adapter, with values as the services use them."""
    tracked: list[Tracked] = []

    def track(adapter: object) -> Any:
        tracked.append(Tracked(adapter))
        return tracked[-1]

    await _ingest(pools["ingest"], track, run)
    await _archive(pools["archive"], track, run)
    await _approval(pools["approval"], track, run)
    await _permission(pools["permission"], track, run)
    await _audit(pools["audit"], track, run)
    for service in pg_access.SERVICES:
        processed = track(ProcessedEvents(pools[service], f"probe-{run}"))
        event = new_event(
            RoleAssigned(
                user="u", role="auditor", fonds_code="Q1", assigned_by="s", assigned_at=NOW
            ),
            source="/aap/permission",
            subject="s",
            correlation_id="c",
        )
        await processed.handle_once(event, _nothing)
        await processed.prune(timedelta(days=14))
        kafka: Any = Kafka()
        await _outbox(track(Outbox(pools[service], kafka, wait_cap_seconds=1)), kafka, event)
    return tracked


class Kafka:
    """The outbox's broker side, which this test does not exercise (test_servicekit_on_real_
    servers does): every topic is "t", every send is taken."""

    def __init__(self) -> None:
        self.sent = asyncio.Event()

    def topic_of(self, event: Any, to: Any = None) -> str:
        return "t"

    async def send(self, messages: Any) -> None:
        self.sent.set()


async def _outbox(outbox: Any, kafka: Kafka, event: Any) -> None:
    await outbox.publish(event)
    assert await outbox.relay_once() >= 1
    await outbox.publish(event)
    await outbox.drain(within=30)
    assert await outbox.refused() == 0
    kafka.sent.clear()
    await outbox.publish(event)
    relay = asyncio.create_task(outbox.run())
    try:
        await asyncio.wait_for(kafka.sent.wait(), 30)  # the relay's task took it
    finally:
        relay.cancel()


async def _nothing() -> None:
    pass


Track = Callable[[object], Any]


async def _ingest(pool: Any, track: Track, run: str) -> None:
    submissions = track(Submissions(pool))
    keys, bookings = track(VoucherKeys(pool)), track(InvoiceBookings(pool))
    event = ingested_document([stored_file("voucher", "v.json", "application/json", b"{}")])
    await submissions.record(uuid.uuid4(), status="accepted", at=NOW, by="erp", note="发票")
    key = f"Q001|2025|3|记-{run}"
    assert await keys.claim(key, "f", event) is None
    assert (await keys.get(key)) is not None
    assert await bookings.claim([f"inv-{run}", f"inv2-{run}"], event.document_id, "Q001") == {}
    assert set(await bookings.holders([f"inv-{run}"])) == {f"inv-{run}"}
    verifications = track(Verifications(pool))
    unanswered = InvoiceVerification(
        status=InvoiceStatus.UNVERIFIED, detail="502", provider="p", checked_at=NOW
    )
    query = InvoiceQuery(
        f"{run[:8]:0>8}", "031001900111", "2020-06-18", Decimal("500.00"), "913101",
        "12345678901357924680",
    )  # fmt: skip
    asked = Verification(event.document_id, "Q001", f"inv-{run}", query, unanswered, 1, NOW)
    await verifications.record(asked)
    await verifications.record(replace(asked, attempts=2))  # the same invoice asked again
    due = await verifications.due(NOW, 20)
    assert [v.attempts for v in due if v.booking_key == f"inv-{run}"] == [2]
    # Asked again later as it was asked first: 发票代码 and 校验码 too.
    assert {v.query for v in due if v.booking_key == f"inv-{run}"} == {query}
    mine = await verifications.listing(["Q001"], unanswered_only=True)
    assert f"inv-{run}" in {v.booking_key for v in mine}
    assert len(await verifications.listing(None, unanswered_only=False)) >= 1


async def _archive(pool: Any, track: Track, run: str) -> None:
    records, handovers, holds, reviews, links, paper = (
        track(Records(pool)), track(Handovers(pool, timedelta(hours=1))), track(Holds(pool)),
        track(Reviews(pool)), track(ApprovalLinksStore(pool)),
        track(PaperVolumes(pool)))  # fmt: skip
    fonds = {"empty": "Q001", "seeded": "Q002"}[run]  # each run its own year to hand over
    record = archived_record(fonds, archive_code=f"{fonds}-2024-D30-PZ-{run}")
    rid = record.record_id
    await records.next_sequence(f"{fonds}|2024|{run}", "doc-1")
    await records.claim_key(f"{fonds}|2024|{run}", rid)
    await records.add(record, {"k": "v1"})
    assert (await records.get(rid)) is not None and (await records.get_locked(rid)) is not None
    assert await records.holder_of(f"{fonds}|2024|{run}") == rid
    assert await records.by_code(record.archive_code) == record
    assert await records.corrections_of(rid) == []
    assert await records.as_archived(rid) == (record, {"k": "v1"})
    card = MaterialDescription(
        kind=RecordCategory.FIXED_ASSET_CARD, title="卡片", responsible="财务部", period_from=1,
        period_to=12, asset_no=f"GD-{run}", disposed_on=date(2024, 6, 30),
    )  # fmt: skip
    disposed = record.model_copy(update={"material": card, "retention_until": date(2029, 12, 31)})
    assert await records.record_disposal(disposed) is True
    assert await records.record_disposal(disposed) is False  # recorded once
    years = track(Years(pool))
    await years.voucher_numbers(fonds, 2024)
    await years.materials(fonds, 2024)
    await years.bank_accounts(fonds, 2024)
    waived = GapWaived(
        fonds_code=fonds, fiscal_year=2024, gap=f"2024/annual_report/{run}", description="年报",
        reason="测试", waived_by="zhaomin", waived_at=NOW,
    )  # fmt: skip
    assert await years.waive(waived) is True
    assert await years.waive(waived) is False  # the first waiver stands
    assert await years.waivers(fonds, 2024) == [waived]
    decided = ApprovalDecided(
        request_id=uuid.uuid4(), kind="borrowing", applicant="u", fonds_code=fonds,
        record_ids=(rid,), decision="approved", approver="a", comment="同意", oa_instance_id="i",
        decided_at=NOW, access_until=NOW + timedelta(days=7),
    )  # fmt: skip
    await records.add_approval(decided)
    assert len(await records.approvals(rid)) == 1
    await records.past_retention(fonds, date(2060, 1, 1))
    await records.in_accounting_custody(fonds, 2024)
    await records.awaiting_review(rid)
    await records.set_review(rid, {"decision": "accepted"})
    await records.custody_years(fonds)
    await records.of_year(fonds, 2024)
    await records.voucher_numbers(fonds, 2024, 3)
    [_ async for _ in records.all_records()]
    [_ async for _ in records.all_ids()]
    handover = RecordsHandedOver(
        handover_id=uuid.uuid4(), fonds_code=fonds, fiscal_year=2024, record_ids=(rid,),
        volumes=1, handed_over_by="甲", received_by="乙", handed_over_at=NOW,
    )  # fmt: skip
    offer = HandoverOffer(uuid.uuid4(), fonds, 2024, "甲", NOW, None, "丙")
    await handovers.offer(offer)
    assert await handovers.supervised(offer.offer_id, "丙", NOW) is True
    assert await handovers.supervised(offer.offer_id, "丙", NOW) is False  # confirmed once
    kept = await handovers.offer_of(offer.offer_id)
    assert kept is not None and (kept.supervised_by, kept.supervised_at) == ("丙", NOW)
    await handovers.open(fonds, 2024, handover.handover_id)
    volume = BoundVolume(1, 2024, 3, "D30", (str(rid),))
    await handovers.start(handover, [volume])
    await handovers.claim(handover)
    await handovers.unfinished()
    await handovers.unfinished(fonds, 2024)
    await handovers.bind(handover, [volume])
    await records.move_to_archive(handover)
    await handovers.finish(handover)
    await handovers.close(fonds, 2024, handover.handover_id)
    await handovers.accepted(offer.offer_id, handover.handover_id)
    await handovers.bound_volumes(fonds, 2024)
    extension = {"fonds_code": fonds, "fiscal_year": 2024, "extended_years": 1}
    assert await handovers.extend_custody(extension) is True
    assert await handovers.extend_custody(extension) is False  # as far as before: not kept
    await handovers.custody_extensions(fonds)
    paper_volume = PaperVolumeRegistered(
        volume_id=uuid.uuid4(), fonds_code=fonds, fiscal_year=2024, title="2024年度纸质凭证",
        location="档案室 A-01", record_ids=(rid,), archive_codes=(record.archive_code,),
        registered_by="zhaomin", registered_at=NOW,
    )  # fmt: skip
    await paper.add(paper_volume)
    registered = await paper.of_record(rid)
    assert [v["volume_id"] for v in registered] == [str(paper_volume.volume_id)]
    after, _ = await holds.current(rid)
    await holds.change(rid, after, LegalHold("未结清的债权债务", "zhaomin", NOW))
    reviewed = RecordReviewed(
        record_id=rid, archive_code=record.archive_code, decision="accepted", reviewed_by="z",
        reviewed_at=NOW,
    )  # fmt: skip
    await reviews.decide(reviewed)
    approval = OaApprovalCompleted(
        approval_key=f"wecom|corp|{run}", oa_connection="wecom", vendor="wecom", corp_id="corp",
        instance_id=run, process_code="p", title="报销", fonds_code=fonds, applicant="a",
        outcome="approved", form=(), trail=(), business_keys=(), finished_at=NOW,
    )  # fmt: skip
    await links.keep_approval(rid, approval)
    assert await links.approval(rid) == approval
    await links.meet(f"invoice|{run}", "voucher", rid, "approval")
    await links.link(
        ApprovalRecordLinked(
            voucher_record_id=rid, voucher_archive_code=record.archive_code,
            approval_record_id=uuid.uuid4(), approval_archive_code="A", fonds_code=fonds,
            key=BusinessKey(kind="invoice_number", value=run), linked_at=NOW,
        )
    )  # fmt: skip
    await links.links_of(rid)
    await links.await_approval(Waiting(rid, fonds, record.archive_code, "记-1", "差旅费", NOW))
    await links.waiting(fonds)
    await links.arrived(rid)
    corrections = track(WaitingCorrections(pool))
    waiting = WaitingCorrection(f"{fonds}|2024|05|记-{run}", fonds, rid, CorrectionKind.REVERSAL)
    await corrections.wait(waiting)
    await corrections.wait(waiting)  # again, as on a redelivery
    assert await corrections.waiting_for([waiting.key], fonds) == [waiting]
    link = CorrectionLink(kind=CorrectionKind.REVERSAL, record_id=uuid.uuid4(), archive_code="X")
    assert await corrections.link(rid, link) is True
    assert await corrections.link(rid, link) is False  # linked once
    assert await corrections.waiting_for([waiting.key], fonds) == []


async def _approval(pool: Any, track: Track, run: str) -> None:
    requests, nonces, titles = (
        track(Requests(pool)), track(Nonces(pool)), track(RecordTitles(pool)))  # fmt: skip
    request = BorrowingRequest(
        request_id=uuid.uuid4(), applicant="liuyang", fonds_code="Q001", oa_connection="seeyon",
        record_ids=(uuid.uuid4(),), reason="审计", days=7, mode="copy", requested_at=NOW,
    )  # fmt: skip
    await requests.add(request)
    stored = await requests.get(request.request_id)
    assert stored is not None and stored.mode == "copy"
    await requests.open_before(NOW - timedelta(days=30))
    await requests.started(request.request_id, "seeyon", f"inst-{run}")
    await requests.start_failed(request.request_id, "down", 1, NOW)
    await requests.starts_due(NOW)
    await requests.record_event("seeyon", f"inst-{run}", "e1", (Step("u1", "approved"),))
    assert (await requests.instance("seeyon", f"inst-{run}")) is not None
    decision = Decision(request.request_id, "seeyon", Outcome.APPROVED, "a", "同意", "i", NOW)
    assert await requests.save_change(request.reached(decision)) is True
    assert (await requests.get(request.request_id)) is not None
    await requests.closed(request.request_id)
    assert await nonces.first_use(f"nonce-{run}") is True
    record = archived_record("Q001")
    await titles.learn(record)
    assert await titles.titles([record.record_id]) and await titles.fonds_of([record.record_id])


async def _permission(pool: Any, track: Track, run: str) -> None:
    grants, roles = track(Grants(pool)), track(Roles(pool, ISSUER))
    grant = Grant(
        grant_id=uuid.uuid4(), user="liuyang", actions=("read",), fonds_code="Q001",
        record_ids=(uuid.uuid4(),), valid_from=NOW, valid_until=NOW + timedelta(days=7),
        request_id=uuid.uuid4(),
    )  # fmt: skip
    await grants.add(grant)
    assert await grants.get(grant.grant_id) == grant
    await grants.for_user_record("liuyang", grant.record_ids[0])
    await grants.for_user("liuyang")
    await grants.due_for_revocation(NOW)
    await grants.mark_revoked(grant.grant_id, NOW)
    await grants.remember_record(grant.record_ids[0], "Q001")
    await grants.fonds_of(grant.record_ids[0])
    held = RoleAssignment(f"p-{run}", "archivist", "Q001")
    assert await roles.assign(held) == held  # waiting: nobody has signed in under the name
    await roles.held(held.user)
    person = Person(f"s-{run}", held.user)
    assert await roles.held_by(person) == [held]  # the first sign-in binds it
    renamed = Person(person.subject, f"q-{run}")
    assert await roles.held_by(renamed) == [replace(held, user=renamed.name)]
    assert await roles.revoke(replace(held, user=renamed.name)) is not None
    await roles.held(renamed.name)
    await roles.held()
    await roles.is_empty()


async def _audit(pool: Any, track: Track, run: str) -> None:
    store, tree = track(LogStore(pool)), track(TreeNodes(pool))
    async with pool.connection() as conn:  # the exercise's own entries follow whatever is there
        found = await conn.execute("SELECT coalesce(max(seq), 0) AS seq FROM entries")
        last = (await found.fetchone())["seq"]
    entries = [
        {"seq": last + n, "event_id": f"{run}-{n}", "event_type": "cn.aap.RecordsAccessed.v1",
         "actor": "liuyang", "time": "2026-12-07T01:00:00Z", "record_ids": [f"r-{run}"],
         "fonds_codes": ["Q001"], "data": {"grant_id": f"g-{run}"}, "hash": "h"}
        for n in (1, 2)
    ]  # fmt: skip
    assert await store.append(entries) == 2
    await store.head()
    assert await store.has_event(f"{run}-1")
    await store.events_present([f"{run}-1"])
    await store.fonds_of_records([f"r-{run}"])
    for filters in (
        {"fonds_codes": {"$in": ["Q001"]}},
        {"record_ids": f"r-{run}"},
        {"actor": "liuyang"},
        {"event_type": "cn.aap.RecordsAccessed.v1"},
        {"event_type": "cn.aap.RecordsAccessed.v1", "fonds_codes": "Q001",
         "time": {"$gte": "2026-12-01", "$lt": "2026-12-31"}},
        {"event_type": {"$in": ["cn.aap.AccessGranted.v1"]}, "data.grant_id": {"$in": ["g"]}},
    ):  # fmt: skip
        await store.query(filters, last, 100)
    [_ async for _ in store.all_in_order()]
    await tree.keep([(0, last, b"\x01"), (1, last // 2, b"\x02")])
    await tree.hashes([(0, last), (1, last // 2)])


def seq_scans(plan: dict[str, Any]) -> list[str]:
    """The tables a plan reads whole."""
    found = [plan["Relation Name"]] if plan.get("Node Type") == "Seq Scan" else []
    for child in plan.get("Plans", []):
        found += seq_scans(child)
    return found


async def test_every_adapter_statement_runs_on_the_migrated_schema_as_its_role(
    stack: tuple[PlatformSettings, dict[str, Any]],
) -> None:
    _, pools = stack
    tracked = await exercise(pools, "empty")
    left_out = {f"{type(t.adapter).__name__}.{m}" for t in tracked for m in t.uncalled()}
    assert left_out == set(), "adapter methods the exercise does not call"


async def test_every_statement_is_served_by_an_index_at_scale(
    stack: tuple[PlatformSettings, dict[str, Any]],
) -> None:
    mine, pools = stack
    for service, statements in SEEDS.items():
        with pg_access.superuser(mine, mine.database_name(service)) as conn:
            for statement in statements:
                record = archived_record("S001").model_dump_json()
                conn.execute(statement, {"rows": ROWS, "record": record})
            conn.execute("ANALYZE")
    Recording.issued.clear()
    await exercise(pools, "seeded")
    scans: dict[str, list[str]] = {}
    for database, statement, params in list(Recording.issued):  # not the EXPLAINs below
        if statement.lstrip().startswith("INSERT") and "SELECT" not in statement:
            continue
        if any(marker in statement + "\n" for marker in DELIBERATE_FULL_READS):
            continue
        service = database.rsplit("_", 1)[1]
        async with pools[service].connection() as conn:
            explained = await conn.execute("EXPLAIN (FORMAT JSON) " + statement, params)
            plan = (await explained.fetchone())["QUERY PLAN"][0]["Plan"]
        if read := [t for t in seq_scans(plan) if t in GROWING]:
            scans[statement] = read
    assert scans == {}, json.dumps(scans, ensure_ascii=False, indent=1)
