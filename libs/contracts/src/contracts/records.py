"""Vocabulary shared by the events: record categories, retention, stored files."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from contracts.types import Contract, Money, Sha256Hex, Sm3Hex


class RecordCategory(StrEnum):
    """The kinds of accounting archive (会计档案) of 附表1 of the 《会计档案管理办法》."""

    SOURCE_DOCUMENT = "source_document"  # 原始凭证
    BOOKKEEPING_VOUCHER = "bookkeeping_voucher"  # 记账凭证
    GENERAL_LEDGER = "general_ledger"  # 总账
    SUBSIDIARY_LEDGER = "subsidiary_ledger"  # 明细账
    JOURNAL = "journal"  # 日记账
    FIXED_ASSET_CARD = "fixed_asset_card"  # 固定资产卡片
    OTHER_AUXILIARY_LEDGER = "other_auxiliary_ledger"  # 其他辅助性账簿
    PERIODIC_FINANCIAL_REPORT = "periodic_financial_report"  # 月度、季度、半年度财务会计报告
    ANNUAL_FINANCIAL_REPORT = "annual_financial_report"  # 年度财务会计报告
    BANK_RECONCILIATION = "bank_reconciliation"  # 银行存款余额调节表
    BANK_STATEMENT = "bank_statement"  # 银行对账单
    TAX_RETURN = "tax_return"  # 纳税申报表
    HANDOVER_LIST = "handover_list"  # 会计档案移交清册
    CUSTODY_REGISTER = "custody_register"  # 会计档案保管清册
    DESTRUCTION_LIST = "destruction_list"  # 会计档案销毁清册
    APPRAISAL_OPINION = "appraisal_opinion"  # 会计档案鉴定意见书


class RetentionPeriod(Contract):
    """Retention period (保管期限): permanent, or a number of years.

    Counted from the day after the fiscal year ends, except fixed-asset cards, counted
    from the day after the asset's disposal.
    """

    permanent: bool = False
    years: Annotated[int, Field(ge=1, le=100)] | None = None
    counted_from: Literal["fiscal_year_end", "asset_disposal"] = "fiscal_year_end"

    @property
    def code(self) -> str:
        """Short code used inside archive codes: Y (永久) or D<years>."""
        return "Y" if self.permanent else f"D{self.years}"


class StoredFile(Contract):
    """An original file kept in the S3 store; events carry its address and digests, never bytes."""

    role: Literal["voucher", "attachment", "source_export"]
    filename: str
    media_type: str
    size: Annotated[int, Field(ge=0)]
    bucket: str
    object_key: str
    sha256: Sha256Hex
    sm3: Sm3Hex


class VoucherSummary(Contract):
    """The header of a bookkeeping voucher (记账凭证) as the ERP exported it."""

    voucher_no: str
    voucher_date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    summary: str
    total: Money
    entry_count: Annotated[int, Field(ge=2)]
    preparer: str  # 经办 / 制单
    reviewer: str  # 审核
    approver: str  # 审批
    declared_attachment_count: Annotated[int, Field(ge=0)]  # 附件张数


class CheckOutcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_PERFORMED = "not_performed"


CheckProperty = Literal["authenticity", "integrity", "usability", "security"]
"""The four properties (四性): 真实性, 完整性, 可用性, 安全性."""


class CheckResult(Contract):
    """One item of the four-property check (四性检测), coded as in DA/T 70-2018 (e.g. ``1-8``)."""

    code: str = Field(pattern=r"^[1-4]-\d{1,2}$")
    name: str
    property: CheckProperty
    outcome: CheckOutcome
    detail: str = ""


class InvoiceRef(Contract):
    """An electronic invoice found among a voucher's attachments (parsed from its signed XML)."""

    invoice_number: Annotated[str, Field(pattern=r"^[0-9]{8,20}$")]
    invoice_code: str | None = None  # older invoices only; 数电票 have a 20-digit number alone
    seller_tax_id: str
    buyer_tax_id: str
    seller_name: str = ""
    buyer_name: str = ""
    issue_date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    total: Money
    file_sha256: Sha256Hex  # the signed XML: the original (财会〔2020〕6号)
    printout_sha256: Sha256Hex | None = None  # a PDF/OFD printout of the same invoice, if uploaded

    @property
    def booking_key(self) -> str:
        """What makes an invoice unique against duplicate booking (重复入账)."""
        if self.invoice_code:  # older invoices: code and number together
            return f"{self.invoice_code}-{self.invoice_number}"
        return self.invoice_number
