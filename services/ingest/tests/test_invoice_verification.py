"""查验 (财会〔2020〕6号 三(一)): the provider's answers as the adapter reads them (against the
stand-in provider, devkit.tax_standin), what each does to an upload, and the invoices the
platform did not answer asked again until it does."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from contracts.events import DocumentIngested, InvoiceVerified
from contracts.records import CheckOutcome, InvoiceStatus, InvoiceVerification
from devkit.sample_invoices import SAMPLE_PRINTOUTS, render
from devkit.tax_standin import APP_ID, TAX_STANDIN_URL, TaxPlatformStandIn, app_secret
from devkit.testing import InMemoryUnits, RecordingPublisher
from ingest.adapters.invoice_verifier import HttpInvoiceVerifier
from ingest.domain.files import UploadedFile
from ingest.domain.intake import Assessment, assess, ingested_event
from ingest.parsers.files import read_upload
from ingest.ports import InvoiceQuery, Verification, VerifierUnavailable
from ingest.verifications import InvoiceChecks

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
VOUCHER = (SAMPLES / "vouchers" / "2025-03-ji-0001.json").read_bytes()
OFFICE = (SAMPLES / "vouchers" / "2025-03-ji-0002.json").read_bytes()  # its invoice a PDF only
XML = (SAMPLES / "attachments" / "einvoice-25312000000012345678.xml").read_bytes()
NUMBER, TOTAL = "25312000000012345678", Decimal("1280.00")
PRINTED = SAMPLE_PRINTOUTS["einvoice-25312000000087654321.pdf"]


def query(number: str = NUMBER, total: Decimal = TOTAL) -> InvoiceQuery:
    return InvoiceQuery(number, None, "2025-03-03", total, "91110105MA01ABCD2X")


def verifier(standin: TaxPlatformStandIn, secret: str | None = None) -> HttpInvoiceVerifier:
    transport = httpx.ASGITransport(standin.app())
    return HttpInvoiceVerifier(TAX_STANDIN_URL, APP_ID, secret or app_secret(), transport=transport)


async def test_each_answer_of_the_provider_is_read_as_the_platform_gave_it() -> None:
    standin = TaxPlatformStandIn()
    standin.knows(NUMBER, TOTAL)
    standin.knows("25312000000000000002", "50.00", "作废")
    standin.knows("25312000000000000003", "50.00", "3")  # the platform's code for 红冲
    standin.knows("25312000000000000004", "50.00", "失控")
    v = verifier(standin)
    assert (await v.verify(query()))[0] is InvoiceStatus.NORMAL
    assert standin.asked[0]["kprq"] == "20250303" and standin.asked[0]["je"] == "1280.00"
    assert "fpdm" not in standin.asked[0]  # a 数电票 has no 发票代码
    voided = await v.verify(query("25312000000000000002", Decimal("50.00")))
    assert voided[0] is InvoiceStatus.VOIDED
    reversed_ = await v.verify(query("25312000000000000003", Decimal("50.00")))
    assert reversed_[0] is InvoiceStatus.REVERSED
    unknown_state = await v.verify(query("25312000000000000004", Decimal("50.00")))
    assert unknown_state[0] is InvoiceStatus.OTHER and "失控" in unknown_state[1]
    assert (await v.verify(query("25312000000099999999")))[0] is InvoiceStatus.NOT_FOUND
    assert (await v.verify(query(total=Decimal("1.00"))))[0] is InvoiceStatus.MISMATCH
    standin.down = True
    with pytest.raises(VerifierUnavailable, match="502"):
        await v.verify(query())


async def test_a_wrong_account_secret_is_an_answer_an_archivist_reads_never_a_pass() -> None:
    standin = TaxPlatformStandIn()
    standin.knows(NUMBER, TOTAL)
    status, detail = await verifier(standin, "not-the-secret").verify(query())
    assert status is InvoiceStatus.OTHER and "签名错误" in detail


async def test_a_provider_that_cannot_be_reached_did_not_answer() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    v = HttpInvoiceVerifier(TAX_STANDIN_URL, APP_ID, "s", transport=httpx.MockTransport(refuse))
    with pytest.raises(VerifierUnavailable, match="ConnectError"):
        await v.verify(query())


def answered(status: InvoiceStatus, detail: str = "") -> InvoiceVerification:
    at = datetime(2025, 3, 20, 8, tzinfo=UTC)
    return InvoiceVerification(status=status, detail=detail, provider="stand-in", checked_at=at)


def checked(
    attachment: UploadedFile,
    verified: dict[str, InvoiceVerification] | None,
    voucher: bytes = VOUCHER,
    **changes: object,
) -> Assessment:
    doc = json.loads(voucher) | changes
    v = UploadedFile("voucher", "v.json", "application/json", json.dumps(doc).encode())
    files = read_upload(v, [attachment])
    return assess(files, virus_scan=[None, None], scanner="ClamAV", verified=verified)


def line(a: Assessment, code: str) -> tuple[CheckOutcome, str]:
    r = next(r for r in a.report if r.code == code)
    return r.outcome, r.detail


XML_FILE = UploadedFile("attachment", "invoice.xml", "application/xml", XML)


@pytest.mark.parametrize(
    "status", [InvoiceStatus.VOIDED, InvoiceStatus.REVERSED, InvoiceStatus.NOT_FOUND]
)
def test_a_voided_reversed_or_unknown_invoice_holds_the_voucher_naming_it(
    status: InvoiceStatus,
) -> None:
    a = checked(XML_FILE, {NUMBER: answered(status, "200 成功")})
    outcome, detail = line(a, "AAP-INVOICE-VERIFIED")
    assert outcome is CheckOutcome.FAILED and f"{NUMBER}: 查验 {status.value}" in detail
    assert a.accepted and a.review_required
    assert a.invoices[0].verification is not None
    assert a.invoices[0].verification.status is status  # kept with the record


def test_an_invoice_the_platform_did_not_answer_is_accepted_with_the_gap_recorded() -> None:
    a = checked(XML_FILE, {NUMBER: answered(InvoiceStatus.UNVERIFIED, "502 网络故障")})
    outcome, detail = line(a, "AAP-INVOICE-VERIFIED")
    assert outcome is CheckOutcome.NOT_PERFORMED and "asked again until it answers" in detail
    assert a.accepted and not a.review_required
    assert "AAP-INVOICE-VERIFIED" in a.conclusion.not_performed


def test_without_a_provider_nothing_is_asked_and_the_report_says_so() -> None:
    a = checked(XML_FILE, None)
    outcome, detail = line(a, "AAP-INVOICE-VERIFIED")
    assert outcome is CheckOutcome.NOT_PERFORMED and "AAP_INGEST_VERIFY_URL" in detail
    assert a.accepted and not a.review_required


def test_an_invoice_normal_on_the_platform_passes_naming_the_provider() -> None:
    a = checked(XML_FILE, {NUMBER: answered(InvoiceStatus.NORMAL, "200 成功; state 正常")})
    outcome, detail = line(a, "AAP-INVOICE-VERIFIED")
    assert outcome is CheckOutcome.PASSED and "查验 正常 (stand-in, 2025-03-20 08:00 UTC)" in detail


def test_查验_confirms_an_invoice_known_from_a_printouts_text_only() -> None:
    pdf = UploadedFile("attachment", "发票.pdf", "application/pdf", render(PRINTED))
    alone = checked(pdf, {}, OFFICE)
    assert line(alone, "AAP-INVOICE-SOURCE")[0] is CheckOutcome.FAILED  # held until confirmed
    confirmed = checked(pdf, {PRINTED.number: answered(InvoiceStatus.NORMAL)}, OFFICE)
    assert line(confirmed, "AAP-INVOICE-SOURCE")[0] is CheckOutcome.PASSED
    assert line(confirmed, "AAP-INVOICE-VERIFIED")[0] is CheckOutcome.PASSED
    assert not confirmed.review_required


def test_an_invoice_the_company_issued_is_not_asked() -> None:
    a = checked(XML_FILE, {}, company_name="北京国贸嘉华酒店管理有限公司")  # the seller books it
    assert line(a, "AAP-INVOICE-VERIFIED")[0] is CheckOutcome.NOT_APPLICABLE


class Register:
    """The register of 查验 in memory (``ingest.ports.Verifications``)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[uuid.UUID, str], Verification] = {}

    async def record(self, v: Verification) -> None:
        self.rows[v.document_id, v.booking_key] = v

    async def due(self, now: datetime, limit: int) -> list[Verification]:
        due = [v for v in self.rows.values() if v.next_at is not None and v.next_at <= now]
        return sorted(due, key=lambda v: v.next_at or now)[:limit]

    async def listing(
        self, fonds_codes: Iterable[str] | None, unanswered_only: bool
    ) -> list[Verification]:
        return [v for v in self.rows.values() if not unanswered_only or v.next_at is not None]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 20, 8, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_an_unanswered_invoice_is_asked_again_later_and_each_answer_announced() -> None:
    standin, register, published, clock = (
        TaxPlatformStandIn(),
        Register(),
        RecordingPublisher(),
        Clock(),
    )
    standin.knows(NUMBER, TOTAL, "作废")
    standin.down = True
    checks = InvoiceChecks(
        verifier(standin), register, published, InMemoryUnits(register), "/aap/ingest", 60, clock
    )
    a = checked(XML_FILE, None)
    [invoice] = [inv for f in a.files if (inv := f.invoice) is not None]
    verified = await checks.at_intake([invoice])
    assert verified[NUMBER].status is InvoiceStatus.UNVERIFIED
    a = checked(XML_FILE, verified)
    event: DocumentIngested = ingested_event(
        a, document_id=uuid.uuid4(), bucket="b", submitted_by="erp", at=clock.now,
        source_export=None,
    )  # fmt: skip
    await checks.keep(event)
    [kept] = register.rows.values()
    assert kept.next_at == clock.now + timedelta(seconds=60)

    assert await checks.ask_again() == 0  # not due yet
    clock.now += timedelta(seconds=61)
    assert await checks.ask_again() == 1  # still down: asked again after twice as long
    [kept] = register.rows.values()
    assert (kept.attempts, kept.next_at) == (2, clock.now + timedelta(seconds=120))
    assert published.events == []

    standin.down = False
    clock.now += timedelta(seconds=121)
    assert await checks.ask_again() == 1
    [kept] = register.rows.values()
    assert kept.next_at is None and kept.verification.status is InvoiceStatus.VOIDED
    [announced] = published.events
    assert isinstance(announced.data, InvoiceVerified)
    assert announced.data.verification.status is InvoiceStatus.VOIDED
    assert (announced.data.document_id, announced.data.attempts) == (event.document_id, 3)
    assert await checks.ask_again() == 0  # answered: never asked again


OLDER = "\n".join(
    [
        "电子普通发票",
        "发票代码：031001900111 发票号码：04512877",
        "开票日期：2020年06月18日",
        "校 验 码：12345 67890 13579 24680",
        "名 称：上海澄明科技有限公司 名 称：上海某某餐饮管理有限公司",
        "纳税人识别号：91310115MA1K4XYZ0P 纳税人识别号：91310104MA1FR8XX1Q",
        "合 计 ¥471.70 ¥28.30",
        "价税合计（大写） 伍佰圆整 （小写）¥500.00",
    ]
)


async def test_an_older_普通发票_is_asked_with_the_last_six_of_its_校验码() -> None:
    """An older e-invoice (发票代码 + 8-digit 号码): its 校验码 read from the printout and asked
    by its last six (jym); a 校验码 that is not the invoice's is 不一致."""
    from ingest.parsers.invoice_text import read_printed_invoice
    from ingest.verifications import query_of

    printed = read_printed_invoice(OLDER)
    assert printed is not None and printed.invoice is not None
    invoice = printed.invoice
    assert (invoice.invoice_code, invoice.check_code) == ("031001900111", "12345678901357924680")
    standin = TaxPlatformStandIn()
    standin.knows("04512877", "500.00", check_code="12345678901357924680")
    v = verifier(standin)
    assert (await v.verify(query_of(invoice)))[0] is InvoiceStatus.NORMAL
    assert (standin.asked[0]["fpdm"], standin.asked[0]["jym"]) == ("031001900111", "924680")
    misread = read_printed_invoice(OLDER.replace("24680", "24681"))
    assert misread is not None and misread.invoice is not None
    assert (await v.verify(query_of(misread.invoice)))[0] is InvoiceStatus.MISMATCH
    # Without it, the provider's refusal is an answer an archivist reads, never a pass.
    unread = read_printed_invoice(OLDER.replace("校 验 码", "备注"))
    assert unread is not None and unread.invoice is not None and unread.invoice.check_code is None
    status, words = await v.verify(query_of(unread.invoice))
    assert status is InvoiceStatus.OTHER and "校验码" in words
