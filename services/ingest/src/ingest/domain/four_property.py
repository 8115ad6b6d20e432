"""The four-property check (四性检测) at intake: one check per registry item of the archiving
stage (``contracts.checks``), each over the upload as the parsers read it.

A check returns what it found wrong (nothing: passed), or why it was not performed or does not
apply. Every file is checked on its own and named by position and digest, never by name alone:
two attachments may share a name, and one's result must never stand for the other's.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from contracts.checks import (
    CHECK_1_1,
    CHECK_1_2,
    CHECK_1_3,
    CHECK_1_4,
    CHECK_1_5,
    CHECK_1_6,
    CHECK_1_8,
    CHECK_1_9,
    CHECK_1_10,
    CHECK_1_12,
    CHECK_1_13,
    CHECK_1_14,
    CHECK_2_1,
    CHECK_2_2,
    CHECK_2_4,
    CHECK_2_5,
    CHECK_2_6,
    CHECK_2_7,
    CHECK_2_8,
    CHECK_2_9,
    CHECK_2_10,
    CHECK_3_1,
    CHECK_3_3,
    CHECK_3_4,
    CHECK_3_5,
    CHECK_3_6,
    CHECK_3_7,
    CHECK_3_8,
    CHECK_4_1,
    CHECK_4_2,
    CHECK_4_3,
    CHECK_4_4,
    CHECK_4_5,
    CHECK_4_6,
    CHECK_APPROVAL_RECORD,
    CHECK_ATTACHMENT_KINDS,
    CHECK_DUPLICATE_BOOKING,
    CHECK_INVOICE_MATCH,
    CHECK_INVOICE_SOURCE,
    CHECK_INVOICE_VERIFIED,
    CHECK_NO_EXTRA,
    CHECK_RECEIPT_MATCH,
    CHECK_SIGNED,
    CHECK_SIGNER_TRUSTED,
    NOT_IDENTIFIED,
    CheckItem,
)
from contracts.formats import preserved
from contracts.records import (
    BankReceiptRef,
    CheckFinding,
    CheckOutcome,
    CheckResult,
    FiscalBillRef,
    InvoiceStatus,
    InvoiceVerification,
    company_key,
    invoice_booking_key,
)
from contracts.types import Money
from ingest.domain.files import ACCEPTED_ATTACHMENT_TYPES, ACCEPTED_MATERIAL_TYPES
from ingest.parsers.bank_receipt import BankReceipt
from ingest.parsers.einvoice import EInvoice
from ingest.parsers.files import ReadFile
from ingest.parsers.findings import Finding
from ingest.parsers.fiscal_bill import FiscalBill
from ingest.parsers.invoice_text import PrintedInvoice
from ingest.parsers.material import MaterialExport
from ingest.parsers.voucher import VoucherExport


@dataclass
class Upload:
    """What the checks look at: every file as read, and what intake learned around them."""

    files: Sequence[ReadFile]  # [0] the voucher export or a material's description, then files
    # Booking key → the record holding it; "" where it is of a fonds the uploader may not see.
    booked: Mapping[str, str] = field(default_factory=dict)
    # Per file, in order: the signature found, or None if clean. None: no scanner configured.
    virus_scan: Sequence[str | None] | None = None
    scanner: str | None = None  # the scanner that answered, e.g. "ClamAV 1.0.7"
    held_by: str | None = None  # the record holding this voucher's key with other content
    package_report: Sequence[CheckResult] = ()  # the whole-package checks, for a package's voucher
    # Invoice number → its 查验, for each invoice received; None: no 查验 provider configured.
    verified: Mapping[str, InvoiceVerification] | None = None

    @property
    def voucher_file(self) -> ReadFile:
        return self.files[0]

    @property
    def attachments(self) -> Sequence[ReadFile]:
        return self.files[1:]

    @property
    def voucher(self) -> VoucherExport | None:
        read = self.voucher_file.voucher
        return read.voucher if read else None

    @property
    def is_material(self) -> bool:
        """A material's upload (its description first), whether or not it could be read."""
        return self.voucher_file.role == "description"

    @property
    def material(self) -> MaterialExport | None:
        read = self.voucher_file.material
        return read.material if read else None

    @property
    def voucher_findings(self) -> Sequence[Finding]:
        """What the parse of the first file found: the voucher export's, or the description's."""
        first = self.voucher_file
        if reason := first.unreadable:
            return (Finding(CHECK_3_1, first.role, reason),)
        read = first.voucher or first.material
        return read.findings if read else ()

    @property
    def voucher_unreadable(self) -> bool:
        """The voucher export could not be read at all (3-1): its fields were never checked."""
        return any(f.item is CHECK_3_1 for f in self.voucher_findings)

    def invoices(self) -> list[tuple[ReadFile, EInvoice]]:
        """Each invoice of the upload once: from its XML where the upload has it, else as a
        printout's text shows it (the XML, OFD and PDF of one invoice are one booking)."""
        signed = [(f, f.invoice) for f in self.attachments if f.invoice is not None]
        numbers = {inv.invoice_number for _, inv in signed}
        printed = [
            (f, f.printed.invoice)
            for f in self.attachments
            if f.printed and f.printed.invoice and f.printed.number not in numbers
        ]
        return signed + printed

    def printout_of(self, invoice: EInvoice) -> ReadFile | None:
        """The attachment that is a printout of an XML ``invoice`` (its number in the text)."""
        if invoice.source != "xml":
            return None
        return next((f for f in self.attachments if invoice.invoice_number in f.text), None)

    @property
    def company(self) -> str:
        return self.voucher.company_name if self.voucher else ""

    def booked_by(self, invoice: EInvoice) -> Literal["buyer", "seller"]:
        """The party booking it: the seller where the company issued it (销项), else the buyer."""
        ours = company_key(self.company)
        if company_key(invoice.seller_name) == ours and company_key(invoice.buyer_name) != ours:
            return "seller"
        return "buyer"

    def booking_key(self, invoice: EInvoice) -> str:
        party = (
            invoice.seller_tax_id if self.booked_by(invoice) == "seller" else invoice.buyer_tax_id
        )
        return invoice_booking_key(invoice.invoice_number, invoice.invoice_code, party)

    def booking_keys(self) -> list[str]:
        """Each invoice's, bank receipt's and fiscal e-bill's: what a second booking of is
        重复入账."""
        invoices = [self.booking_key(inv) for _, inv in self.invoices()]
        bills = [b.booking_key for _, b in self.fiscal_bills()]
        return invoices + [r.booking_key for _, r in self.receipts()] + bills

    def fiscal_bills(self) -> list[tuple[ReadFile, FiscalBillRef]]:
        """Each fiscal e-bill (财政电子票据) whose fields could be read, as the record keeps it."""
        currency = self.voucher.currency if self.voucher else "CNY"
        return [
            (f, _fiscal_bill_ref(f, b, currency))
            for f in self.attachments
            if (b := f.fiscal_bill) is not None and b.problem is None
        ]

    def receipt_side(self, r: BankReceipt) -> Literal["payer", "payee", "unknown"]:
        """The company's side of a transfer: payee where a 银行存款 (1002) line is debited with
        its amount, payer where one is credited with it; unknown where none matches."""
        for e in self.voucher.entries if self.voucher else ():
            if e.account_code.startswith("1002") and r.amount is not None:
                if e.debit == r.amount:
                    return "payee"
                if e.credit == r.amount:
                    return "payer"
        return "unknown"

    def receipts(self) -> list[tuple[ReadFile, BankReceiptRef]]:
        """Each bank e-receipt whose fields could be read, as the record keeps it."""
        currency = self.voucher.currency if self.voucher else "CNY"
        return [
            (f, self._receipt_ref(f, r, currency))
            for f in self.attachments
            if (r := f.receipt) is not None and r.problem is None
        ]

    def _receipt_ref(self, f: ReadFile, r: BankReceipt, currency: str) -> BankReceiptRef:
        assert r.transaction_date and r.amount is not None  # read whole: no problem named
        return BankReceiptRef(
            number=r.number,
            transaction_date=r.transaction_date,
            amount=Money(amount=r.amount, currency=currency),
            payer_account=r.payer_account or "",
            payee_account=r.payee_account or "",
            side=self.receipt_side(r),
            file_sha256=f.ref.sha256,
        )

    def received(self) -> list[EInvoice]:
        """The invoices the company received (进项): those 查验 asks about."""
        return [inv for _, inv in self.invoices() if self.booked_by(inv) == "buyer"]

    def confirmed(self, number: str) -> bool:
        """查验 found the invoice as read (the platform answered 正常 to its fields)."""
        v = (self.verified or {}).get(number)
        return v is not None and v.status is InvoiceStatus.NORMAL


@dataclass(frozen=True)
class Skipped:
    """A check not performed, or not applicable: the report says why."""

    outcome: CheckOutcome
    reason: str


def not_performed(reason: str) -> Skipped:
    return Skipped(CheckOutcome.NOT_PERFORMED, reason)


def not_applicable(reason: str) -> Skipped:
    return Skipped(CheckOutcome.NOT_APPLICABLE, reason)


@dataclass(frozen=True)
class Passed:
    """A check passed, saying what it saw (who signed, say)."""

    detail: str


Found = list[CheckFinding]
Check = Callable[[Upload], Found | Skipped | Passed]
VOUCHER_UNREAD = "the voucher export or description cannot be read (3-1)"


def at(f: ReadFile, message: str) -> CheckFinding:
    return CheckFinding(message=message, file=f.ref)


def _voucher_findings(item: CheckItem) -> Check:
    """An item the voucher export's own parse judges (lengths, types, domains, required)."""

    def check(u: Upload) -> Found | Skipped:
        found = [
            CheckFinding(message=f.message, file=u.voucher_file.ref, field=f.field)
            for f in u.voucher_findings
            if f.item is item
        ]
        if not found and u.voucher_unreadable and item is not CHECK_3_1:
            return not_performed(VOUCHER_UNREAD)
        return found

    return check


NOT_PARSED = "the voucher export or description did not pass 1-2, 1-3, 1-4, 1-5 or 2-4"


def _with_voucher(check: Callable[[Upload, VoucherExport], Found | Skipped]) -> Check:
    """A check that needs the parsed voucher: not performed when it did not parse."""

    def run(u: Upload) -> Found | Skipped:
        if u.material is not None:
            return not_applicable(f"a {u.material.kind.value} is not a voucher")
        if u.voucher is None:
            return not_performed(NOT_PARSED)
        return check(u, u.voucher)

    return run


def _fixity(u: Upload) -> Found | Skipped | Passed:
    """1-1 at archiving: the digests are recorded here (so valid by construction), and each
    signature a file carries verified where it can be: an altered file fails, naming it."""
    found, verified, unverifiable = [], [], []
    for f in (f for f in u.files if f.signed):
        for s in f.signatures:
            if s.unreadable:
                found.append(at(f, f"{s.who}: {s.unreadable}"))
            elif s.problem:
                unverifiable.append(f"{f.name}: {s.who}: {s.problem}")
            elif not s.intact:
                why = s.defect or "altered after signing, or not signed by that key"
                found.append(at(f, f"the signature of {s.who} does not match the content: {why}"))
            elif not s.unaltered:
                found.append(at(f, f"changed after {s.who} signed it: {s.changed_after}"))
            else:
                verified.append(f"{f.name}: signed by {s.who}, intact")
        if not f.signatures:
            unverifiable.append(f"{f.name}: {_unverifiable(f)}")
    if found:
        return found
    if unverifiable:
        return not_performed("; ".join([*verified, *unverifiable, DIGESTS_RECORDED]))
    return Passed("; ".join([*verified, DIGESTS_RECORDED])) if verified else []


DIGESTS_RECORDED = "the digests (SHA-256, SM3) are recorded at intake"


def _unverifiable(f: ReadFile) -> str:
    if f.pdf is not None:
        return "a signature dictionary without a signature field the verifier can read"
    if f.ofd is not None:
        return "its seals cannot be reached: the package cannot be read"
    return (
        "a 数电票 XML signature: its canonicalisation and the tax bureau's key are not "
        "published, so its authenticity rests on 查验"
    )


def _trusted_signers(u: Upload) -> Found | Skipped | Passed:
    """Each verified signature's signer chains to a trust anchor the customer configured."""
    signed = [(f, s) for f in u.files for s in f.signatures if s.verified]
    if not signed:
        return not_applicable("no signature in the upload was verified (1-1)")
    if any(s.trusted is None for _, s in signed):
        return not_performed(
            "no trust anchors are configured (AAP_INGEST_TRUST_ANCHORS): the signers' "
            "certificates were not judged"
        )
    found = [
        at(
            f,
            f"signed by {s.who}, whose certificate does not chain to a trust anchor of this "
            f"archive ({s.chain_problem})",
        )
        for f, s in signed
        if not s.trusted
    ]
    return found or Passed(
        "; ".join(f"{f.name}: {s.who} chains to a trust anchor" for f, s in signed)
    )


def _signed(u: Upload) -> Found | Skipped:
    invoices = [(f, inv) for f, inv in u.invoices() if inv.source == "xml"]
    if not invoices:
        return not_applicable("no e-invoice XML in the upload")
    return [
        at(f, "the e-invoice XML carries no signature") for f, inv in invoices if not inv.signed
    ]


def _reasonable(u: Upload) -> Found | Skipped:
    found = [
        CheckFinding(message=f.message, file=u.voucher_file.ref, field=f.field)
        for f in u.voucher_findings
        if f.item is CHECK_1_5
    ]
    found += [at(f, p) for f, inv in u.invoices() for p in inv.arithmetic_problems()]
    if not found and u.voucher is None and u.material is None and not u.invoices():
        return not_performed(NOT_PARSED)
    return found


def _special_characters(u: Upload) -> Found | Skipped:
    texts: dict[str, str]
    if (m := u.material) is not None:
        texts = {"title": m.title, "responsible": m.responsible, "company_name": m.company_name}
        texts |= {"reference": m.reference or "", "asset_no": m.asset_no or ""}
    elif (v := u.voucher) is not None:
        texts = {"summary": v.summary, "company_name": v.company_name, "voucher_no": v.voucher_no}
        texts |= {f"entries.{i}.summary": e.summary for i, e in enumerate(v.entries)}
    else:
        return not_performed(NOT_PARSED)
    return [
        CheckFinding(message="contains control characters", file=u.voucher_file.ref, field=name)
        for name, text in texts.items()
        if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in text)
    ]


def _key_held(u: Upload) -> Found | Skipped:
    """1-8: the document's key (its metadata that must not repeat) is not held with other
    content; the same content answers with the first document before any check runs."""
    if u.held_by is None:
        return []
    what = (
        f"this {u.material.kind.value} of the same months is held by record {u.held_by}, "
        "with other content"
        if u.material is not None
        else f"this voucher's key is held by record {u.held_by}, with other content: a change "
        "to an archived voucher is a correction (`corrects`)"
    )
    return [CheckFinding(message=what, file=u.voucher_file.ref)]


def _booked_once(u: Upload) -> Found | Skipped:
    """One booking per invoice and party, whichever of its XML, OFD or PDF came first; one per
    bank receipt and side; one per fiscal e-bill and payer."""
    invoices, receipts, bills = u.invoices(), u.receipts(), u.fiscal_bills()
    if not invoices and not receipts and not bills:
        return not_applicable("no e-invoice, bank receipt or fiscal e-bill in the upload")
    found, seen = [], set()
    # Each booking: the file, its key, what it is, whose side it is, where it was read from.
    booked: list[tuple[ReadFile, str, str, str, str]] = [
        (f, u.booking_key(inv), f"invoice {inv.invoice_number}", u.booked_by(inv), _read_from(inv))
        for f, inv in invoices
    ]
    booked += [(f, r.booking_key, f"bank receipt {r.number}", r.side, "") for f, r in receipts]
    booked += [
        (f, b.booking_key, f"fiscal e-bill {b.bill_code}-{b.bill_number}", "payer", "")
        for f, b in bills
    ]
    for f, key, what, side, read in booked:
        if key in seen:
            found.append(at(f, f"{what} is attached twice"))
        seen.add(key)
        if key in u.booked:
            holder = u.booked[key]
            where = f" in record {holder}" if holder else ""
            party = f"its {side}" if side != "unknown" else "the same accounts"
            found.append(at(f, f"{what} is already booked by {party}{where} (重复入账){read}"))
    return found


def _attachment_kinds(u: Upload) -> Found | Skipped | Passed:
    """What each attachment was read as; a plain attachment said to be one."""
    if not u.attachments or u.is_material:
        return not_applicable("no attachment to a voucher in the upload")
    return Passed("; ".join(f"{f.name}: {_kind(f)}" for f in u.attachments))


def _kind(f: ReadFile) -> str:
    if f.invoice is not None:
        return f"e-invoice {f.invoice.invoice_number} (its XML)"
    if (p := f.printed) is not None:
        how = f"read from {READ_FROM[p.invoice.source]}" if p.invoice else "its fields unread"
        return f"e-invoice {p.number} ({how})"
    if (b := f.fiscal_bill) is not None:
        return f"fiscal e-bill {b.key}" + (" (its fields unread)" if b.problem else "")
    if (r := f.receipt) is not None:
        return f"bank e-receipt {r.number}" + (" (its fields unread)" if r.problem else "")
    return (
        "an attachment: no e-voucher recognised in it, kept as it is, outside the duplicate check"
    )


def _fiscal_bill_ref(f: ReadFile, b: FiscalBill, currency: str) -> FiscalBillRef:
    assert b.issue_date and b.payer and b.total is not None  # read whole: no problem named
    return FiscalBillRef(
        bill_code=b.code,
        bill_number=b.number,
        kind=b.kind,
        issue_date=b.issue_date,
        payer=b.payer,
        payer_id=b.payer_id,
        payee=b.payee,
        total=Money(amount=b.total, currency=currency),
        check_code=b.check_code,
        file_sha256=f.ref.sha256,
    )


def _read_from(inv: EInvoice) -> str:
    return f"; read from {READ_FROM[inv.source]}" if inv.source in READ_FROM else ""


def _authentic_source(u: Upload) -> Found | Skipped:
    """An invoice or fiscal e-bill known only from a printout's text is unauthenticated: held
    for review."""
    printouts = [(f, p) for f in u.attachments if (p := f.printed) is not None]
    bills = [(f, b) for f in u.attachments if (b := f.fiscal_bill) is not None]
    if not printouts and not u.invoices() and not bills:
        return not_applicable("no e-invoice or fiscal e-bill in the upload")
    signed = {inv.invoice_number for f in u.attachments if (inv := f.invoice) is not None}
    return [
        at(f, _unauthenticated(p))
        for f, p in printouts
        # Not the printout of an XML in the same upload, nor an invoice 查验 confirmed, nor
        # a file whose signer (a trust anchor's) vouches for what it shows.
        if p.number not in signed
        and not (p.invoice and u.confirmed(p.number))
        and not _vouched_for(f)
    ] + [at(f, _unauthenticated_bill(b)) for f, b in bills if b.problem or not _vouched_for(f)]


def _vouched_for(f: ReadFile) -> bool:
    """The file's own signature, verified, by a signer who chains to a trust anchor."""
    return any(s.verified and s.trusted for s in f.signatures)


def _unauthenticated_bill(b: FiscalBill) -> str:
    if b.problem:
        return f"fiscal e-bill {b.key}: {b.problem}; it could not be checked for duplicate booking"
    return (
        f"fiscal e-bill {b.key} is read from its printout's text only, which anyone can edit: "
        "held until a signature confirms it"
    )


READ_FROM = {
    "printout_text": "the printout's text only",
    "ofd_data": "the OFD's structured data (CustomData, original_invoice.xml, 自定义标引) only",
}


def _unauthenticated(p: PrintedInvoice) -> str:
    if p.invoice is None:
        return f"invoice {p.number}: {p.problem}; it could not be checked for duplicate booking"
    return (
        f"invoice {p.number} is read from {READ_FROM[p.invoice.source]}, which anyone can "
        "edit: held until a signature or 查验 confirms it"
    )


def _verified_on_the_platform(u: Upload) -> Found | Skipped | Passed:
    """查验 (财会〔2020〕6号 三(一)): each invoice received, as the tax platform answered."""
    invoices = [(f, inv) for f, inv in u.invoices() if u.booked_by(inv) == "buyer"]
    if not invoices:
        return not_applicable("no e-invoice received in the upload (查验 is for those received)")
    if u.verified is None:
        return not_performed("no 查验 provider is configured (AAP_INGEST_VERIFY_URL)")
    found, normal, unanswered = [], [], []
    for f, inv in invoices:
        v = u.verified.get(inv.invoice_number)
        said = f"invoice {inv.invoice_number}: 查验 {v.status.value}" if v else ""
        if v is None:
            unanswered.append(f"invoice {inv.invoice_number}: not asked")
        elif v.status is InvoiceStatus.NORMAL:
            normal.append(f"{said} ({v.provider}, {v.checked_at:%Y-%m-%d %H:%M} UTC)")
        elif v.status is InvoiceStatus.UNVERIFIED:
            unanswered.append(f"{said}: {v.detail}; asked again until it answers")
        else:
            found.append(at(f, f"{said} ({v.detail})"))
    if found:
        return found
    if unanswered:
        return not_performed("; ".join([*normal, *unanswered]))
    return Passed("; ".join(normal))


def _attributes(u: Upload) -> Found | Skipped:
    return [at(f, f.type_problem) for f in u.files if f.type_problem]


def _invoice_matches(u: Upload, v: VoucherExport) -> Found | Skipped:
    """An e-invoice agrees with the voucher booking it (received by the company, or issued by
    it), and with its printout."""
    invoices = u.invoices()
    if not invoices:
        return not_applicable("no e-invoice in the upload")
    found = []
    ours = company_key(v.company_name)
    for f, inv in invoices:
        parties = {company_key(inv.buyer_name), company_key(inv.seller_name)}
        if inv.buyer_name and ours not in parties:
            found.append(
                at(
                    f,
                    f"invoice {inv.invoice_number} is made out to {inv.buyer_name} by "
                    f"{inv.seller_name}, neither of them {v.company_name} booking it",
                )
            )
        if inv.issue_date > v.voucher_date:
            found.append(
                at(
                    f,
                    f"invoice {inv.invoice_number} is dated {inv.issue_date}, "
                    f"after the voucher ({v.voucher_date})",
                )
            )
        found += [at(f, f"invoice {inv.invoice_number}: {p}") for p in _reversal_problems(inv)]
        printout = u.printout_of(inv)
        shown = {f"{inv.total:.2f}", f"{inv.total:,.2f}"}  # with or without thousands separators
        if printout and not any(total in printout.text for total in shown):
            found.append(
                at(
                    printout,
                    f"the printout of invoice {inv.invoice_number} does not show its total "
                    f"{inv.total:.2f}",
                )
            )
    return found


def _reversal_problems(inv: EInvoice) -> list[str]:
    """A 红字 invoice is its own invoice with negative amounts, naming the blue one it offsets;
    a blue one's total is not negative."""
    if not inv.red:
        return ["a blue invoice with a negative total"] if inv.total < 0 else []
    problems = ["a 红字 invoice whose total is not negative"] if inv.total >= 0 else []
    if inv.offsets is None:
        problems.append("a 红字 invoice that names no blue invoice it offsets (RedEInvoice)")
    return problems


def _receipts_match(u: Upload, v: VoucherExport) -> Found | Skipped:
    """A bank e-receipt proves a 银行存款 line of its voucher: same amount, the right side."""
    partial = [(f, b) for f in u.attachments if (b := f.receipt) and b.problem]
    receipts = u.receipts()
    if not receipts and not partial:
        return not_applicable("no bank e-receipt in the upload")
    found = [
        at(f, f"bank receipt {p.number}: {p.problem}; it could not be checked for duplicate "
              "booking")
        for f, p in partial
    ]  # fmt: skip
    for f, r in receipts:
        if r.side == "unknown":
            found.append(
                at(
                    f,
                    f"bank receipt {r.number} for {r.amount.amount} matches no 银行存款 (1002) "
                    "line of the voucher",
                )
            )
        if r.transaction_date > str(v.voucher_date):
            found.append(
                at(
                    f,
                    f"bank receipt {r.number} is dated {r.transaction_date}, after the voucher "
                    f"({v.voucher_date})",
                )
            )
    return found


def _from_package(item: CheckItem) -> Check:
    def check(u: Upload) -> Found | Skipped:
        result = next((r for r in u.package_report if r.code == item.code), None)
        if result is None:
            return not_applicable("uploaded alone, not in an archive package")
        if result.outcome is CheckOutcome.PASSED:
            return []
        return [CheckFinding(message=result.detail or "failed for the package")]

    return check


def _process_information(u: Upload, v: VoucherExport) -> Found | Skipped:
    ref = u.voucher_file.ref
    found = [
        CheckFinding(message="names no one", file=ref, field=role)
        for role in ("preparer", "reviewer", "approver")
        if not getattr(v, role).strip()
    ]
    if v.preparer.strip() and v.preparer == v.reviewer:
        found.append(
            CheckFinding(
                message=f"preparer and reviewer are the same person ({v.preparer}): "
                "制单与审核应分离",
                file=ref,
                field="reviewer",
            )
        )
    return found


def _content_present(u: Upload) -> Found | Skipped:
    found = [at(f, "file is empty") for f in u.files if f.size == 0]
    if u.is_material and not u.attachments:
        found.append(
            CheckFinding(message="a material is its files: none was uploaded", field="files")
        )
    return found


def _process(u: Upload) -> Found | Skipped | Passed:
    """2-5: who made it. A voucher's preparer, reviewer and approver; a material's 责任者,
    which its description requires."""
    if u.material is not None:
        return []
    return _with_voucher(_process_information)(u)


def _attachments_match(u: Upload, v: VoucherExport) -> Found | Skipped:
    # A printout is a copy of the e-invoice XML beside it, not an attachment of its own.
    printouts = {p.ref.position for _, inv in u.invoices() if (p := u.printout_of(inv))}
    declared, uploaded = v.attachment_count, len(u.attachments) - len(printouts)
    if uploaded != declared:
        beside = f" besides {len(printouts)} invoice printout(s)" if printouts else ""
        message = f"{declared} attachments declared (附件张数), {uploaded} uploaded{beside}"
        return [CheckFinding(message=message, file=u.voucher_file.ref, field="attachment_count")]
    return []


def _accepted_formats(u: Upload) -> Found | Skipped:
    if u.is_material:
        accepted, named = ACCEPTED_MATERIAL_TYPES, "PDF, OFD, XLSX or XML"
    else:
        accepted, named = ACCEPTED_ATTACHMENT_TYPES, "PDF, OFD or XML"
    return [
        at(f, f"type {f.media_type} is not accepted ({named})")
        for f in u.attachments
        if f.media_type not in accepted
    ]


def _readable(u: Upload) -> Found | Skipped:
    found = []
    for f in u.attachments:
        if f.unreadable:
            found.append(at(f, f.unreadable))
        if f.xml_problem:
            found.append(at(f, f.xml_problem))
        if f.invoice_problem:
            found.append(at(f, f.invoice_problem))
        if f.pdf and f.pdf.problem:
            found.append(at(f, f.pdf.problem))
        elif f.pdf and not f.pdf.encrypted and f.pdf.pages == 0:
            found.append(at(f, "PDF has no pages"))
        if f.ofd and f.ofd.problem:
            found.append(at(f, f.ofd.problem))
        if f.workbook and f.workbook.problem:
            found.append(at(f, f.workbook.problem))
    return found


def _not_encrypted(u: Upload) -> Found | Skipped:
    found = []
    for f in u.attachments:
        if f.pdf and f.pdf.encrypted:
            found.append(at(f, "PDF is encrypted"))
        if f.ofd and f.ofd.encrypted:
            found.append(at(f, "OFD package has encrypted entries"))
        if f.ofd and f.ofd.private_compression:
            found.append(at(f, "OFD package uses a non-public compression"))
    return found


def _scanner(u: Upload) -> Found | Skipped:
    if u.scanner is None:
        return [CheckFinding(message="no virus scanner is configured (AAP_INGEST_CLAMD_ADDRESS)")]
    return []


def _virus_scan(u: Upload) -> Found | Skipped:
    if u.virus_scan is None:
        return not_performed("no virus scanner is configured (AAP_INGEST_CLAMD_ADDRESS)")
    return [
        at(f, f"{signature} found")
        for f, signature in zip(u.files, u.virus_scan, strict=True)
        if signature
    ]


def _environment(u: Upload) -> Found | Skipped:
    """3-5: the environment each file's electronic attributes record (format and version, as
    its bytes say) is one the archive preserves. A file not of its type is 1-10's finding."""
    return [
        at(
            f,
            f"its format ({f.format or 'not told by its bytes'}) is not one the archive "
            "preserves: PDF 1.0–2.0, OFD, XML 1.0/1.1, XLSX, JSON",
        )
        for f in u.files
        if not f.type_problem and not f.unreadable and not preserved(f.format)
    ]


# The items intake never performs on an upload, and why: each report says so.
NOT_PER_UPLOAD: Mapping[CheckItem, Skipped] = {
    CHECK_2_6: not_applicable(
        "continuity is a property of a period, not of one upload: checked before a handover "
        "and as kept; GET /v1/completeness reports it"
    ),
    CHECK_APPROVAL_RECORD: not_performed(
        "the OA approval record arrives on its own: GET /v1/vouchers/awaiting-approval lists "
        "the vouchers still waiting for theirs"
    ),
    **{
        item: not_applicable(item.not_applicable or "")
        for item in (CHECK_4_3, CHECK_4_4, CHECK_4_5, CHECK_4_6)
    },
    **{
        item: not_performed(NOT_IDENTIFIED)
        for item in (CHECK_1_9, CHECK_1_12, CHECK_1_13, CHECK_2_9, CHECK_3_6, CHECK_3_7)
    },
}


def _not_per_upload(item: CheckItem) -> Check:
    return lambda _: NOT_PER_UPLOAD[item]


# The intake's table: every archiving item but those the archive performs at accession.
INTAKE_CHECKS: Mapping[CheckItem, Check] = {
    CHECK_1_1: _fixity,
    CHECK_SIGNER_TRUSTED: _trusted_signers,
    CHECK_SIGNED: _signed,
    CHECK_1_2: _voucher_findings(CHECK_1_2),
    CHECK_1_3: _voucher_findings(CHECK_1_3),
    CHECK_1_4: _voucher_findings(CHECK_1_4),
    CHECK_1_5: _reasonable,
    CHECK_INVOICE_MATCH: _with_voucher(_invoice_matches),
    CHECK_RECEIPT_MATCH: _with_voucher(_receipts_match),
    CHECK_1_6: _special_characters,
    CHECK_1_8: _key_held,
    CHECK_DUPLICATE_BOOKING: _booked_once,
    CHECK_ATTACHMENT_KINDS: _attachment_kinds,
    CHECK_INVOICE_SOURCE: _authentic_source,
    CHECK_INVOICE_VERIFIED: _verified_on_the_platform,
    CHECK_1_9: _not_per_upload(CHECK_1_9),
    CHECK_1_10: _attributes,
    CHECK_1_12: _not_per_upload(CHECK_1_12),
    CHECK_1_13: _not_per_upload(CHECK_1_13),
    CHECK_1_14: _from_package(CHECK_1_14),
    CHECK_2_1: _from_package(CHECK_2_1),
    CHECK_2_2: _from_package(CHECK_2_2),
    CHECK_2_4: _voucher_findings(CHECK_2_4),
    CHECK_2_5: _process,
    CHECK_2_6: _not_per_upload(CHECK_2_6),
    CHECK_2_7: _content_present,
    CHECK_2_8: _with_voucher(_attachments_match),
    CHECK_APPROVAL_RECORD: _not_per_upload(CHECK_APPROVAL_RECORD),
    CHECK_2_9: _not_per_upload(CHECK_2_9),
    CHECK_2_10: _from_package(CHECK_2_10),
    CHECK_3_1: _voucher_findings(CHECK_3_1),
    CHECK_3_3: _accepted_formats,
    CHECK_3_4: _readable,
    CHECK_3_5: _environment,
    CHECK_3_6: _not_per_upload(CHECK_3_6),
    CHECK_3_7: _not_per_upload(CHECK_3_7),
    CHECK_3_8: _not_encrypted,
    CHECK_4_1: _scanner,
    CHECK_4_2: _virus_scan,
    CHECK_4_3: _not_per_upload(CHECK_4_3),
    CHECK_NO_EXTRA: _from_package(CHECK_NO_EXTRA),
    CHECK_4_4: _not_per_upload(CHECK_4_4),
    CHECK_4_5: _not_per_upload(CHECK_4_5),
    CHECK_4_6: _not_per_upload(CHECK_4_6),
}


def describe(findings: Sequence[CheckFinding]) -> str:
    """The findings in one line, each with the file (name, position, digest) or field."""
    parts = []
    for f in findings:
        where = (
            f"{f.file.filename} (#{f.file.position}, SHA-256 {f.file.sha256[:12]}…)"
            if f.file
            else ""
        )
        if f.field:
            where = f"{where} {f.field}".strip()
        parts.append(f"{where}: {f.message}" if where else f.message)
    return "; ".join(parts)


def run_checks(upload: Upload) -> list[CheckResult]:
    report = []
    for item, check in INTAKE_CHECKS.items():
        outcome = check(upload)
        if isinstance(outcome, Skipped):
            report.append(item.result(outcome.outcome, outcome.reason))
        elif isinstance(outcome, Passed):
            report.append(item.result(CheckOutcome.PASSED, outcome.detail))
        elif outcome:
            report.append(
                item.result(CheckOutcome.FAILED, describe(outcome), findings=tuple(outcome))
            )
        else:
            report.append(item.result(CheckOutcome.PASSED))
    return report
