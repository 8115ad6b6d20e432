"""The search read model on its own (in-memory SQLite): what matches, and who sees it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from archive.adapters.search_index import SearchIndex
from archive.domain.search import SearchCriteria, Visibility
from contracts.events import RecordArchived
from contracts.records import InvoiceRef, RecordCategory, RetentionPeriod
from contracts.types import Money
from devkit.samples import voucher_summary

ALL = Visibility(all_fonds=True, fonds=(), record_ids=())


def record(n: int, fonds: str, summary: str, amount: str, seller: str = "") -> RecordArchived:
    invoices = (
        (
            InvoiceRef(
                invoice_number=f"2531{n:016d}",
                seller_tax_id="9111",
                buyer_tax_id="9131",
                seller_name=seller,
                issue_date="2025-03-01",
                total=Money(amount=amount),
                file_sha256="a" * 64,
            ),
        )
        if seller
        else ()
    )
    return RecordArchived(
        record_id=uuid.UUID(int=n),
        document_id=uuid.UUID(int=n),
        archive_code=f"{fonds}-2025-D30-PZ-{n:06d}",
        fonds_code=fonds,
        fiscal_year=2025,
        category=RecordCategory.BOOKKEEPING_VOUCHER,
        retention=RetentionPeriod(years=30),
        retention_until=None,
        originals=(),
        archived_at=datetime.now(UTC),
        invoices=invoices,
        period=3,
        voucher=voucher_summary(
            voucher_no=f"记-{n:04d}", summary=summary, total=Money(amount=amount)
        ),
    )


async def index() -> SearchIndex:
    ix = SearchIndex()
    for r in [
        record(1, "Q1", "报销差旅费", "1280.00", "北京国贸嘉华酒店"),
        record(2, "Q1", "采购办公用品 100%纸张", "1000.00"),
        record(3, "Q2", "差旅费（他单位）", "99.00", "杭州禾木贸易"),
    ]:
        await ix.add(r)
    return ix


async def ids(ix: SearchIndex, visible: Visibility = ALL, **criteria: object) -> list[int]:
    hits = await ix.search(SearchCriteria(**criteria), visible, 50, 0, with_total=False)  # type: ignore[arg-type]
    return [uuid.UUID(h["record_id"]).int for h in hits.items]


async def test_chinese_substrings_of_any_length_and_literal_wildcards() -> None:
    ix = await index()
    assert await ids(ix, text="差旅费") == [1, 3]
    assert await ids(ix, text="差旅") == [1, 3]  # two characters: below the trigram, still found
    assert await ids(ix, counterparty="禾木") == [3]
    assert await ids(ix, text="100%") == [2]
    assert await ids(ix, text="%") == [2]  # a literal %, not "anything"


async def test_amounts_invoices_and_pages() -> None:
    ix = await index()
    assert await ids(ix, amount_min=Decimal("100"), amount_max=Decimal("1000.00")) == [2]
    assert await ids(ix, invoice_number=f"2531{3:016d}") == [3]
    page = await ix.search(SearchCriteria(), ALL, 2, 0, with_total=True)
    assert (len(page.items), page.has_more, page.total) == (2, True, 3)
    assert (
        page.items[0]["summary"] == "报销差旅费" and page.items[0]["amount"]["amount"] == "1280.00"
    )
    assert await ix.holding_invoice(f"2531{1:016d}") == str(uuid.UUID(int=1))


async def test_only_visible_fonds_and_granted_records_are_returned() -> None:
    ix = await index()
    q1 = Visibility(all_fonds=False, fonds=("Q1",), record_ids=())
    assert await ids(ix, q1, text="差旅费") == [1]
    granted = Visibility(all_fonds=False, fonds=(), record_ids=(str(uuid.UUID(int=3)),))
    assert await ids(ix, granted) == [3]
    assert await ids(ix, Visibility(False, (), ())) == []


async def test_adding_a_record_again_changes_nothing() -> None:
    ix = await index()
    await ix.add(record(1, "Q1", "报销差旅费", "1280.00", "北京国贸嘉华酒店"))
    assert (await ix.search(SearchCriteria(), ALL, 50, 0, with_total=True)).total == 3
    assert await ids(ix, text="差旅费") == [1, 3]
