"""The intake use case with in-memory ports: one record per voucher, nothing lost to an outage."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from contracts.events import DocumentIngested, DocumentRejected
from devkit.testing import InMemoryUnits, RecordingPublisher
from ingest.domain.uploaders import OutOfScope, Uploader
from ingest.parsers.files import UploadedFile, read_file
from ingest.ports import Booking, KeptVoucher
from ingest.service import IngestService, Outcome
from servicekit.workers import LimitExceeded, WorkerLimits

T = TypeVar("T")
SAMPLES = Path(__file__).resolve().parents[3] / "samples"
VOUCHER = json.loads((SAMPLES / "vouchers" / "2025-03-ji-0002.json").read_text("utf-8"))
PDF = (SAMPLES / "attachments" / "bank-receipt-20250320-0004411.pdf").read_bytes()  # no invoice
XML = (SAMPLES / "attachments" / "einvoice-25312000000012345678.xml").read_bytes()


class Originals:
    bucket = "ingest"

    def __init__(self) -> None:
        self.kept: dict[str, bytes] = {}

    async def exists(self, key: str) -> bool:
        return key in self.kept

    async def put(self, key: str, data: bytes, media_type: str) -> None:
        self.kept[key] = data

    async def put_file(self, key: str, path: Path, media_type: str) -> None:
        raise NotImplementedError  # journals are not taken here


class Submissions:
    async def record(self, submission_id: uuid.UUID, **details: Any) -> None:
        pass


class Bookings:
    def __init__(self) -> None:
        self.booked: dict[str, Booking] = {}

    async def holders(self, keys: Iterable[str]) -> dict[str, Booking]:
        return {k: self.booked[k] for k in keys if k in self.booked}

    async def claim(
        self, keys: list[str], document_id: uuid.UUID, fonds_code: str
    ) -> dict[str, Booking]:
        if taken := await self.holders(keys):
            return taken
        self.booked |= {k: Booking(str(document_id), fonds_code) for k in keys}
        return {}


class Keys:
    """Unique keys as a dictionary: a second claim of a key finds the first."""

    def __init__(self) -> None:
        self.kept: dict[str, KeptVoucher] = {}

    async def get(self, key: str) -> KeptVoucher | None:
        return self.kept.get(key)

    async def claim(
        self, key: str, fingerprint: str, event: DocumentIngested
    ) -> KeptVoucher | None:
        if key in self.kept:
            return self.kept[key]
        self.kept[key] = KeptVoucher(key, event.document_id, fingerprint, event)
        return None


class Parsers:
    """The worker pool, in this process; a file named ``slow.*`` goes over the time limit."""

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if fn is read_file and args[1].filename.startswith("slow"):
            raise LimitExceeded("time", WorkerLimits(seconds=60))
        return fn(*args, **kwargs)


class Scanner:
    async def version(self) -> str:
        return "ClamAV test"

    async def scan(self, data: bytes) -> str | None:
        return None


def service(bookings: Bookings | None = None) -> tuple[IngestService, RecordingPublisher, Keys]:
    published, keys, bookings = RecordingPublisher(), Keys(), bookings or Bookings()
    units = InMemoryUnits(keys, bookings, published)
    return (
        IngestService(
            Originals(),
            Submissions(),
            bookings,
            keys,
            published,
            units,
            Parsers(),
            "/aap/ingest",
            Scanner(),
        ),
        published,
        keys,
    )


ERP = Uploader("erp", frozenset({"*"}))


def voucher(**changes: object) -> UploadedFile:
    doc = VOUCHER | {"attachment_count": 1} | changes
    return UploadedFile("voucher", "v.json", "application/json", json.dumps(doc).encode())


def xml_invoice() -> UploadedFile:
    return UploadedFile("attachment", "inv.xml", "application/xml", XML)


def pdf(name: str = "inv.pdf") -> UploadedFile:
    return UploadedFile("attachment", name, "application/pdf", PDF)


async def test_the_same_voucher_again_is_answered_with_its_document_and_publishes_nothing() -> None:
    s, published, _ = service()
    first = await s.ingest(voucher(), [pdf()], uploader=ERP)
    again = await s.ingest(voucher(), [pdf("renamed.pdf")], uploader=ERP)
    assert (first.outcome, again.outcome) == (Outcome.ACCEPTED, Outcome.ALREADY_ACCEPTED)
    assert again.event == first.event
    assert [type(e.data) for e in published.events] == [DocumentIngested]


async def test_other_content_under_a_taken_key_is_refused_naming_the_record() -> None:
    s, published, _ = service()
    first = await s.ingest(voucher(), [pdf()], uploader=ERP)
    assert isinstance(first.event, DocumentIngested)
    other = await s.ingest(voucher(summary="采购办公用品（改）"), [pdf()], uploader=ERP)
    assert other.outcome is Outcome.CONFLICT
    assert isinstance(other.event, DocumentRejected)
    assert f"held by record {first.event.document_id}" in other.event.problems[0].message
    assert [type(e.data) for e in published.events] == [DocumentIngested, DocumentRejected]


class BookedMeanwhile(Bookings):
    """Another voucher books the same invoices between the checks and this one's booking."""

    async def claim(
        self, keys: list[str], document_id: uuid.UUID, fonds_code: str
    ) -> dict[str, Booking]:
        self.booked |= {k: Booking("another-document", fonds_code) for k in keys}
        return await super().claim(keys, document_id, fonds_code)


async def test_an_invoice_booked_meanwhile_leaves_nothing_of_the_voucher_but_its_refusal() -> None:
    """The voucher's key was taken in the same unit of work as the failed booking: it is given
    back with it, so the voucher, once corrected, can be uploaded again."""
    s, published, keys = service(BookedMeanwhile())
    refused = await s.ingest(voucher(), [xml_invoice()], uploader=ERP)
    assert refused.outcome is Outcome.REJECTED and keys.kept == {}
    assert isinstance(refused.event, DocumentRejected)
    said = " ".join(p.message for p in refused.event.problems)
    assert "invoice 25312000000012345678 is already booked" in said and "another-document" in said
    assert [type(e.data) for e in published.events] == [DocumentRejected]


async def test_a_file_over_the_parsing_limit_is_refused_naming_the_limit() -> None:
    s, _, keys = service()
    refused = await s.ingest(voucher(), [pdf("slow.pdf")], uploader=ERP)
    assert refused.outcome is Outcome.REJECTED and keys.kept == {}
    assert isinstance(refused.event, DocumentRejected)
    [problem] = refused.event.problems
    assert problem.message.startswith("slow.pdf (#1, SHA-256")
    assert problem.message.endswith("cannot be read: parsing went over the time limit of 60 s")


async def test_a_voucher_of_a_fonds_the_uploader_holds_no_role_in_is_refused_and_nothing_kept() -> (
    None
):
    s, published, keys = service()
    accountant = Uploader("lijing", frozenset({"Q002"}))
    with pytest.raises(OutOfScope, match="lijing may upload into fonds Q002 only, not Q001"):
        await s.ingest(voucher(fonds_code="Q001"), [pdf()], uploader=accountant)
    assert published.events == [] and keys.kept == {}
    accepted = await s.ingest(voucher(fonds_code="Q002"), [pdf()], uploader=accountant)
    assert accepted.outcome is Outcome.ACCEPTED


async def test_a_duplicate_booking_is_refused_naming_only_what_the_uploader_may_see() -> None:
    """Once, the refusal named the record holding the invoice whatever its fonds: another
    company's accountant learned the id of a record they may not read."""
    s, _, _ = service()

    def with_invoice(fonds: str, no: str) -> tuple[UploadedFile, list[UploadedFile]]:
        return voucher(fonds_code=fonds, voucher_no=no), [xml_invoice()]

    first = await s.ingest(*with_invoice("Q001", "记-0101"), uploader=ERP)
    assert isinstance(first.event, DocumentIngested), first.event
    held = str(first.event.document_id)
    for uploader, fonds, named in (
        (Uploader("lijing", frozenset({"Q002"})), "Q002", False),
        (Uploader("zhangwei", frozenset({"Q001"})), "Q001", True),
    ):
        again = await s.ingest(*with_invoice(fonds, "记-0102"), uploader=uploader)
        assert isinstance(again.event, DocumentRejected)
        said = " ".join(p.message for p in again.event.problems)
        assert "invoice 25312000000012345678 is already booked" in said and "重复入账" in said
        assert (held in said) is named, said


def statement(**changes: object) -> UploadedFile:
    doc = {
        "format": "aap.material.v1",
        "fonds_code": "Q001",
        "company_name": VOUCHER["company_name"],
        "fiscal_year": 2025,
        "kind": "bank_statement",
        "title": "工商银行浦东支行 2025年3月 银行对账单",
        "responsible": "中国工商银行上海浦东支行",
        "period_from": 3,
        "period_to": 3,
        "bank_account": "1002",
    } | changes
    return UploadedFile(
        "description", "statement.json", "application/json", json.dumps(doc).encode()
    )


async def test_a_bank_statement_is_ingested_as_a_material_once() -> None:
    s, published, _ = service()
    first = await s.ingest(statement(), [pdf("对账单.pdf")], uploader=ERP)
    assert first.outcome is Outcome.ACCEPTED and isinstance(first.event, DocumentIngested)
    e = first.event
    assert (e.category, e.period, e.voucher) == ("bank_statement", 3, None)
    assert e.material is not None and e.material.bank_account == "1002"
    assert [f.role for f in e.files] == ["description", "attachment"]
    again = await s.ingest(statement(), [pdf("对账单.pdf")], uploader=ERP)
    assert again.outcome is Outcome.ALREADY_ACCEPTED and again.event == first.event
    other = await s.ingest(statement(title="另一份"), [pdf("对账单.pdf")], uploader=ERP)
    assert other.outcome is Outcome.CONFLICT and isinstance(other.event, DocumentRejected)
    assert f"held by record {e.document_id}" in other.event.problems[0].message
    another_month = await s.ingest(statement(period_from=4, period_to=4), [pdf()], uploader=ERP)
    assert another_month.outcome is Outcome.ACCEPTED
    assert [type(x.data) for x in published.events] == [
        DocumentIngested,
        DocumentRejected,
        DocumentIngested,
    ]


async def test_a_material_of_a_fonds_the_uploader_holds_no_role_in_is_refused() -> None:
    s, published, _ = service()
    with pytest.raises(OutOfScope):
        await s.ingest(statement(), [pdf()], uploader=Uploader("lijing", frozenset({"Q002"})))
    assert published.events == []


async def test_a_voucher_names_the_bank_accounts_it_books() -> None:
    s, _, _ = service()
    done = await s.ingest(voucher(), [pdf()], uploader=ERP)
    assert isinstance(done.event, DocumentIngested) and done.event.voucher is not None
    assert [(a.code, a.name) for a in done.event.voucher.bank_accounts] == [
        ("1002", "银行存款—工商银行浦东支行")
    ]
