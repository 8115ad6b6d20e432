"""The ERP voucher export format ``aap.voucher.v1`` (JSON): docs/formats/voucher-json.md.

A bookkeeping voucher (记账凭证) with its entries; the attachments come as separate files.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from contracts.checks import CHECK_1_5
from contracts.records import BankAccount, CorrectionOf, RecordCategory
from contracts.types import Amount, Contract
from ingest.parsers.findings import ExportError, Finding
from ingest.parsers.json_document import load_document, validated


class VoucherEntry(Contract):
    """One line (分录) of a voucher: an account debited or credited.

    An amount may be negative: red ink (红字), how accountants reverse or reduce what was booked
    (会计基础工作规范 第五十一条(五): "用红字填写一张与原内容相同的记账凭证 … 调减金额用红字").
    """

    summary: str = Field(min_length=1, max_length=200)
    account_code: Annotated[str, Field(pattern=r"^\d{4}[\d.]{0,20}$")]  # 金蝶 uses 6602.05
    account_name: str = Field(min_length=1, max_length=100)
    debit: Amount = Decimal("0")
    credit: Amount = Decimal("0")

    @model_validator(mode="after")
    def _one_side(self) -> VoucherEntry:
        if (self.debit == 0) == (self.credit == 0):
            raise ValueError("exactly one of debit and credit must be non-zero")
        return self


class VoucherExport(Contract):
    """The JSON an ERP sends for one bookkeeping voucher."""

    format: Literal["aap.voucher.v1"]
    fonds_code: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,16}$")]
    company_name: str = Field(min_length=1, max_length=200)
    category: RecordCategory = RecordCategory.BOOKKEEPING_VOUCHER
    fiscal_year: Annotated[int, Field(ge=1990, le=2200)]
    period: Annotated[int, Field(ge=1, le=12)]
    voucher_no: str = Field(min_length=1, max_length=40)
    voucher_date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    summary: str = Field(min_length=1, max_length=500)
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"
    preparer: str = Field(min_length=1, max_length=50)
    reviewer: str = Field(min_length=1, max_length=50)
    approver: str = Field(min_length=1, max_length=50)
    attachment_count: Annotated[int, Field(ge=0, le=10000)]
    corrects: CorrectionOf | None = Field(
        default=None,
        description="The voucher this one corrects and how (注销, 订正, 调整, 更正): by its "
        "archive_code (档号), or its fiscal_year, period and voucher_no",
    )
    entries: list[VoucherEntry] = Field(min_length=2, max_length=1000)
    open_matter: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="未结清的债权债务或其他未了事项 (第十九条), e.g. 应收账款未收回: the archive "
        "holds the voucher from destruction until the matter is settled",
    )

    @field_validator("voucher_date")
    @classmethod
    def _real_date(cls, value: str) -> str:
        from datetime import date

        date.fromisoformat(value)  # raises ValueError naming the bad date
        return value

    @property
    def total_debit(self) -> Decimal:
        return sum((e.debit for e in self.entries), Decimal("0"))

    @property
    def total_credit(self) -> Decimal:
        return sum((e.credit for e in self.entries), Decimal("0"))

    @property
    def bank_accounts(self) -> tuple[BankAccount, ...]:
        """The bank accounts its entries book: 银行存款 (1002) and its sub-accounts, each once."""
        seen = {e.account_code: e.account_name for e in self.entries if _is_bank(e)}
        return tuple(BankAccount(code=c, name=n) for c, n in sorted(seen.items()))


BANK_DEPOSITS = "1002"  # 银行存款 in the 企业会计准则 chart of accounts


def _is_bank(entry: VoucherEntry) -> bool:
    return entry.account_code.startswith(BANK_DEPOSITS)


def parse_voucher_export(raw: bytes) -> VoucherExport:
    """Parse and check one export; raise ExportError naming every problem found."""
    voucher = validated(VoucherExport, load_document(raw, "voucher"), "voucher")
    if voucher.total_debit != voucher.total_credit:
        raise ExportError(
            [
                Finding(
                    CHECK_1_5,
                    "entries",
                    f"debits {voucher.total_debit} and credits {voucher.total_credit} "
                    "do not balance (借贷不平衡)",
                )
            ]
        )
    if str(voucher.fiscal_year) != voucher.voucher_date[:4]:
        raise ExportError(
            [Finding(CHECK_1_5, "voucher_date", f"not in fiscal year {voucher.fiscal_year}")]
        )
    return voucher


@dataclass(frozen=True)
class VoucherRead:
    """A voucher export as read: the voucher, or every reason it cannot be taken."""

    voucher: VoucherExport | None
    findings: tuple[Finding, ...] = ()


def read_voucher(raw: bytes) -> VoucherRead:
    try:
        return VoucherRead(parse_voucher_export(raw))
    except ExportError as error:
        return VoucherRead(None, tuple(error.findings))
