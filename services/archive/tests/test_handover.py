"""The handover use case (移交) with in-memory ports: what the archive department relies on."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from archive.completeness import CompletenessService
from archive.domain.archive_code import ArchiveCodeRule
from archive.domain.lifecycle import DutiesSeparated, HandoverOffer, HandoverRefused, NotNamed
from archive.domain.recheck import Finding
from archive.domain.record import archive, placement
from archive.domain.volumes import BoundVolume
from archive.handover import HandoverService
from contracts.checks import CHECK_1_1
from contracts.envelope import Envelope
from contracts.events import RecordArchived, RecordsHandedOver
from devkit.archive_fakes import AllowEveryone, InMemoryYearBooks
from devkit.samples import ingested_document, stored_file
from devkit.testing import InMemoryUnits
from servicekit.auth import Person

RULE = ArchiveCodeRule()


def record(n: int) -> RecordArchived:
    doc = ingested_document([stored_file("voucher", "v.json", "application/json", b"{%d}" % n)])
    return archive(doc, placement(doc, RULE), n, RULE, bucket="archive", at=datetime.now(UTC))


class Records:
    def __init__(self, records: list[RecordArchived], held: Iterable[uuid.UUID] = ()) -> None:
        self.custody = {r.record_id: "accounting" for r in records}
        self.records = {r.record_id: r for r in records}
        self.held = set(held)
        self.reads = 0

    async def in_accounting_custody(self, fonds: str, year: int) -> list[RecordArchived]:
        self.reads += 1
        await asyncio.sleep(0)  # another request may run here, as against a real database
        return [self.records[i] for i, c in self.custody.items() if c == "accounting"]

    async def awaiting_review(self, record_id: uuid.UUID) -> bool:
        return record_id in self.held

    async def move_to_archive(self, handover: RecordsHandedOver) -> None:
        for i in handover.record_ids:
            self.custody[i] = "archive"

    async def custody_years(self, fonds: str) -> dict[int, int]:
        return {}


class Handovers:
    """Unique keys as dictionaries: a second insert of a key fails, as the database's does."""

    def __init__(self) -> None:
        self.marks: dict[str, uuid.UUID] = {}
        self.kept: dict[uuid.UUID, tuple[RecordsHandedOver, list[BoundVolume], bool]] = {}
        self.claims: dict[uuid.UUID, uuid.UUID] = {}
        self.offers: dict[uuid.UUID, HandoverOffer] = {}
        self.volumes: dict[tuple[int, int], uuid.UUID] = {}

    async def open(self, fonds: str, year: int, handover_id: uuid.UUID) -> None:
        if f"{fonds}|{year}" in self.marks:
            raise HandoverRefused("already under way")
        self.marks[f"{fonds}|{year}"] = handover_id

    async def close(self, fonds: str, year: int, handover_id: uuid.UUID) -> None:
        if self.marks.get(f"{fonds}|{year}") == handover_id:
            del self.marks[f"{fonds}|{year}"]

    async def start(self, handover: RecordsHandedOver, volumes: list[BoundVolume]) -> None:
        self.kept[handover.handover_id] = (handover, volumes, False)
        await self.claim(handover)

    async def claim(self, handover: RecordsHandedOver) -> None:
        for i in handover.record_ids:
            if self.claims.setdefault(i, handover.handover_id) != handover.handover_id:
                raise HandoverRefused(f"record {i} is already in a handover")

    async def unfinished(
        self, fonds: str | None = None, year: int | None = None
    ) -> list[tuple[RecordsHandedOver, list[BoundVolume]]]:
        return [(h, v) for h, v, done in self.kept.values() if not done]

    async def bind(self, handover: RecordsHandedOver, volumes: list[BoundVolume]) -> None:
        for v in volumes:
            assert self.volumes.setdefault((v.fiscal_year, v.number), handover.handover_id) == (
                handover.handover_id
            )

    async def finish(self, handover: RecordsHandedOver) -> None:
        h, v, _ = self.kept[handover.handover_id]
        self.kept[handover.handover_id] = (h, v, True)
        await self.close(handover.fonds_code, handover.fiscal_year, handover.handover_id)

    async def bound_volumes(self, fonds: str, year: int) -> list[BoundVolume]:
        return [v for _, volumes, done in self.kept.values() if done for v in volumes]

    async def custody_extensions(self, fonds: str) -> dict[int, int]:
        return {}

    async def extend_custody(self, extension: dict[str, Any]) -> bool:
        raise NotImplementedError

    async def offer(self, offer: HandoverOffer) -> HandoverOffer:
        for kept in self.offers.values():
            if (kept.fonds_code, kept.fiscal_year, kept.handover_id) == (
                offer.fonds_code,
                offer.fiscal_year,
                None,
            ):
                return kept
        self.offers[offer.offer_id] = offer
        return offer

    async def offer_of(self, offer_id: uuid.UUID) -> HandoverOffer | None:
        return self.offers.get(offer_id)

    async def accepted(self, offer_id: uuid.UUID, handover_id: uuid.UUID) -> None:
        self.offers[offer_id] = replace(self.offers[offer_id], handover_id=handover_id)

    async def supervised(self, offer_id: uuid.UUID, by: str, at: datetime) -> bool:
        offer = self.offers[offer_id]
        if offer.supervised_by != by or offer.supervised_at or offer.handover_id:
            return False
        self.offers[offer_id] = replace(offer, supervised_at=at)
        return True


class Lists:
    """The handovers' 移交清册 as kept: by handover, the volumes they listed."""

    def __init__(self) -> None:
        self.kept: dict[uuid.UUID, Sequence[BoundVolume]] = {}

    async def numbered(
        self, fonds: str, year: int, handover_id: uuid.UUID
    ) -> tuple[str, uuid.UUID]:
        return f"{fonds}-{year}-D30-QT-{len(self.kept) + 1:06d}", uuid.uuid5(handover_id, "list")

    async def archive(
        self, handover: RecordsHandedOver, volumes: Sequence[BoundVolume]
    ) -> RecordArchived | None:
        self.kept.setdefault(handover.handover_id, volumes)
        return None


class Integrity:
    def __init__(self, failing: dict[uuid.UUID, str] | None = None) -> None:
        self.failing = failing or {}

    async def findings_of(
        self, ids: Iterable[uuid.UUID], stage: object = None
    ) -> dict[uuid.UUID, list[Finding]]:
        return {
            i: [Finding(CHECK_1_1, "scan.pdf", "k", "a", "b", self.failing[i])]
            if i in self.failing
            else []
            for i in ids
        }


class Published:
    def __init__(self) -> None:
        self.events: list[Envelope[Any]] = []

    async def publish(self, event: Envelope[Any]) -> None:
        self.events.append(event)


def service(
    records: Records,
    handovers: Handovers,
    integrity: Integrity | None = None,
    years: InMemoryYearBooks | None = None,
) -> tuple[HandoverService, Published]:
    published = Published()
    if years is None:
        years = InMemoryYearBooks()
        years.complete("Q001", 2025, {3: ["记-0001", "记-0002", "记-0003"]})
    completeness = CompletenessService(
        years, published, AllowEveryone(), "/aap/archive", InMemoryUnits(), {}
    )
    return (
        HandoverService(
            records,
            handovers,
            integrity or Integrity(),
            published,
            AllowEveryone(),
            "/aap/archive",
            InMemoryUnits(),
            completeness,
            Lists(),
        ),
        published,
    )


def person(name: str) -> Person:
    return Person(f"subject-of-{name}", name)


OFFERED_AT = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
# An offer of 陈静 (移交人) that 王强 (监交人) confirmed an hour later.
SUPERVISED = HandoverOffer(
    uuid.uuid4(), "Q001", 2025, "陈静", OFFERED_AT, None, "王强", OFFERED_AT + timedelta(hours=1)
)


async def hand_over(s: HandoverService) -> RecordsHandedOver:
    return await s.hand_over("Q001", 2025, user=person("赵敏"), offer=SUPERVISED)


async def test_of_twenty_requests_at_once_one_hands_over_and_the_year_is_free_again() -> None:
    records = Records([record(1), record(2)])
    handovers = Handovers()
    s, published = service(records, handovers)
    outcomes = await asyncio.gather(*(hand_over(s) for _ in range(20)), return_exceptions=True)
    done = [o for o in outcomes if isinstance(o, RecordsHandedOver)]
    assert len(done) == 1 and len(published.events) == 1
    assert all(isinstance(o, HandoverRefused) for o in outcomes if o not in done)
    assert records.reads == 1  # the refused ones never read the records: the mark came first
    assert handovers.marks == {}
    late = record(3)
    records.records[late.record_id], records.custody[late.record_id] = late, "accounting"
    later = await hand_over(s)  # a record archived late: a second handover of the year
    assert later.record_ids == (late.record_id,)


async def test_a_refused_handover_names_every_reason_and_leaves_the_year_open() -> None:
    first, second = record(1), record(2)
    records = Records([first, second], held=[second.record_id])
    handovers = Handovers()
    s, published = service(records, handovers, Integrity({first.record_id: "SHA-256 differs"}))
    with pytest.raises(HandoverRefused) as refused:
        await hand_over(s)
    assert f"re-check 1-1 failed for {first.archive_code}: scan.pdf: SHA-256 differs" in str(
        refused.value
    )
    assert f"{second.archive_code} still awaits an archivist's review" in str(refused.value)
    assert handovers.marks == {} and handovers.kept == {} and published.events == []


async def test_an_interrupted_handover_is_completed_with_the_same_event_id() -> None:
    records = Records([record(1)])
    handovers = Handovers()
    s, published = service(records, handovers)
    started = await hand_over(s)
    handovers.kept[started.handover_id] = (*handovers.kept[started.handover_id][:2], False)
    await s.resume_handovers()  # as at a restart after a crash before "done"
    first, again = published.events
    assert first.id == again.id


async def test_the_accounting_side_offers_a_third_person_supervises_the_archive_accepts() -> None:
    """第二十四条: 移交人, 监交人 and 接收人, three people, each by their own sign-in."""
    records = Records([record(1), record(2)])
    s, published = service(records, Handovers())
    with pytest.raises(DutiesSeparated, match="another person supervises"):
        await s.offer("Q001", 2025, user=person("lijing"), supervised_by="lijing")
    offer = await s.offer("Q001", 2025, user=person("lijing"), supervised_by="wangqiang")
    again = await s.offer("Q001", 2025, user=person("lijing"), supervised_by="wangqiang")
    assert again == offer  # the open offer, once
    with pytest.raises(HandoverRefused, match="waits for its 监交人 wangqiang to confirm it"):
        await s.accept(offer.offer_id, user=person("zhaomin"))
    with pytest.raises(NotNamed, match="names wangqiang as its 监交人, not zhaomin"):
        await s.supervise(offer.offer_id, user=person("zhaomin"))
    supervised = await s.supervise(offer.offer_id, user=person("wangqiang"))
    assert await s.supervise(offer.offer_id, user=person("wangqiang")) == supervised  # once
    for duty, who in (("offered", "lijing"), ("supervises", "wangqiang")):
        with pytest.raises(DutiesSeparated, match=f"{who} {duty} this handover: another"):
            await s.accept(offer.offer_id, user=person(who))
    done = await s.accept(offer.offer_id, user=person("zhaomin"))
    assert (done.handed_over_by, done.received_by, done.supervised_by) == (
        "lijing",
        "zhaomin",
        "wangqiang",
    )
    assert (done.offered_at, done.supervised_at) == (offer.offered_at, supervised.supervised_at)
    assert done.handover_list == "Q001-2025-D30-QT-000001"
    with pytest.raises(HandoverRefused, match="was accepted by handover"):
        await s.accept(offer.offer_id, user=person("zhaomin"))
    assert [e.type for e in published.events] == [
        "cn.aap.HandoverSupervised.v1",
        "cn.aap.HandoverSupervised.v1",  # asked again: the same event, under the same id
        "cn.aap.RecordsHandedOver.v1",
    ]
    assert published.events[0].id == published.events[1].id


async def test_an_incomplete_year_is_handed_over_once_an_archivist_waives_its_gaps() -> None:
    records = Records([record(1), record(2)])
    years = InMemoryYearBooks()
    years.complete("Q001", 2025, {3: ["记-0001", "记-0004"]})  # 记-0002 and 记-0003 missing
    s, published = service(records, Handovers(), years=years)
    with pytest.raises(HandoverRefused) as refused:
        await hand_over(s)
    assert "incomplete: 2025-03/numbering/记/2-3 — 记 numbers 0002–0003 are missing" in str(
        refused.value
    )
    assert published.events == []
    completeness = CompletenessService(
        years, published, AllowEveryone(), "/aap/archive", InMemoryUnits(), {}
    )
    waived = await completeness.waive(
        "Q001", 2025, ["2025-03/numbering/记/2-3"], "作废凭证，纸质留存", person("赵敏")
    )
    done = await hand_over(s)
    assert done.waived == tuple(waived)
    assert [e.type for e in published.events] == [
        "cn.aap.GapWaived.v1",
        "cn.aap.RecordsHandedOver.v1",
    ]
