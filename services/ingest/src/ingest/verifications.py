"""查验 (财会〔2020〕6号 三(一)): each e-invoice an upload received is asked of the tax platform at
intake; one the platform did not answer is accepted with the gap recorded and asked again, on a
schedule, until it answers, and the answer is announced (``InvoiceVerified``).

Only invoices received (进项) are asked: the company's own issued invoices (销项) are its own
records. The answers are kept in ingest's register of 查验; archivists and auditors list them
(``GET /v1/invoice-verifications``), those still unanswered first of all.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

import structlog

from contracts.envelope import new_event
from contracts.events import DocumentIngested, InvoiceVerified
from contracts.records import InvoiceRef, InvoiceStatus, InvoiceVerification
from contracts.types import utc_now
from ingest.parsers.einvoice import EInvoice
from ingest.ports import (
    InvoiceQuery,
    InvoiceVerifier,
    Publisher,
    Verification,
    Verifications,
    VerifierUnavailable,
)
from servicekit.database import UnitOfWork

log = structlog.get_logger()
LONGEST_WAIT = timedelta(days=1)  # between two asks, however often it went unanswered
BATCH = 20  # invoices asked again per run


def query_of(invoice: EInvoice | InvoiceRef) -> InvoiceQuery:
    """What 查验 asks about an invoice as read at intake, or as the record keeps it."""
    total = invoice.total.amount if isinstance(invoice, InvoiceRef) else invoice.total
    return InvoiceQuery(
        invoice.invoice_number,
        invoice.invoice_code,
        invoice.issue_date,
        total,
        invoice.seller_tax_id,
        invoice.check_code,
    )


class InvoiceChecks:
    def __init__(
        self,
        verifier: InvoiceVerifier | None,
        register: Verifications,
        publisher: Publisher,
        unit: UnitOfWork,
        source: str,
        retry_seconds: float,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._verifier = verifier
        self._register = register
        self._publisher = publisher
        self._unit = unit
        self._source = source
        self._retry = timedelta(seconds=retry_seconds)
        self._clock = clock

    @property
    def configured(self) -> bool:
        return self._verifier is not None

    async def at_intake(self, received: Sequence[EInvoice]) -> dict[str, InvoiceVerification]:
        """Each invoice received, asked now: its answer by invoice number."""
        answers = await asyncio.gather(*(self._ask(query_of(inv)) for inv in received))
        return {inv.invoice_number: a for inv, a in zip(received, answers, strict=True)}

    async def keep(self, event: DocumentIngested) -> None:
        """Within the unit of work that accepts the document: each answer kept, and each
        invoice the platform did not answer put down to be asked again."""
        for ref in event.invoices:
            if ref.verification is None:
                continue
            await self._register.record(
                Verification(
                    event.document_id,
                    event.fonds_code,
                    ref.booking_key,
                    query_of(ref),
                    ref.verification,
                    attempts=1,
                    next_at=self._next(ref.verification, 1),
                )
            )

    async def ask_again(self) -> int:
        """The invoices due asked again (the schedule's work); each answer announced. How many
        were asked."""
        if self._verifier is None:
            return 0
        async with self._unit():  # the invoices due are this replica's until it commits
            due = await self._register.due(self._clock(), BATCH)
            answers = await asyncio.gather(*(self._ask(v.query) for v in due))
            for v, answer in zip(due, answers, strict=True):
                attempts = v.attempts + 1
                again = Verification(
                    v.document_id, v.fonds_code, v.booking_key, v.query, answer, attempts,
                    self._next(answer, attempts),
                )  # fmt: skip
                await self._register.record(again)
                if answer.status.answered:
                    await self._announce(again)
        return len(due)

    async def listing(
        self, fonds_codes: Iterable[str] | None, unanswered_only: bool
    ) -> list[Verification]:
        return await self._register.listing(fonds_codes, unanswered_only)

    async def _ask(self, query: InvoiceQuery) -> InvoiceVerification:
        assert self._verifier is not None
        try:
            status, detail = await self._verifier.verify(query)
        except VerifierUnavailable as error:
            status, detail = InvoiceStatus.UNVERIFIED, f"the platform did not answer: {error}"
            log.warning("查验 unanswered", invoice=query.number, reason=str(error))
        return InvoiceVerification(
            status=status, detail=detail, provider=self._verifier.provider, checked_at=self._clock()
        )

    def _next(self, answer: InvoiceVerification, attempts: int) -> datetime | None:
        """Unanswered: asked again after the retry delay, doubled each time, a day at most."""
        if answer.status.answered:
            return None
        wait: timedelta = min(self._retry * 2 ** (attempts - 1), LONGEST_WAIT)
        checked: datetime = answer.checked_at
        return checked + wait

    async def _announce(self, v: Verification) -> None:
        number = v.query.number
        event = InvoiceVerified(
            document_id=v.document_id,
            fonds_code=v.fonds_code,
            invoice_number=number,
            invoice_code=v.query.code,
            booking_key=v.booking_key,
            verification=v.verification,
            attempts=v.attempts,
        )
        await self._publisher.publish(
            new_event(
                event,
                source=self._source,
                subject=str(v.document_id),
                correlation_id=str(v.document_id),
                event_id=uuid.uuid5(v.document_id, f"查验 {v.booking_key} {v.attempts}"),
            )
        )
