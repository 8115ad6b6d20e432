"""Vocabulary shared by the events: record categories, retention, stored files."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from contracts.types import Contract, Money, Sha256Hex, Sm3Hex, UtcDatetime


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


class VerifiedSignature(Contract):
    """A signature verified at intake (固化信息, DA/T 46 电子签名): the signed bytes unchanged
    and the signature over them valid. An altered file is refused, so a kept one never has a
    failed signature; ``trusted`` says whether its signer's certificate chained to one of the
    archive's trust anchors (False: held for an archivist's review)."""

    signer: str = Field(description="The signing certificate's subject (签名人)")
    issuer: str = Field(description="The signing certificate's issuer")
    signed_at: UtcDatetime | None = Field(
        default=None, description="The time the signer claims (签名时间), not a trusted timestamp"
    )
    algorithm: str = Field(description="签名算法标识, e.g. sha256_ecdsa, sm2_sm3")
    trusted: bool | None = Field(
        description="Chains to a trust anchor; None: no anchors configured to judge it by"
    )
    seal: str | None = Field(
        default=None, description="The electronic seal's name (印章名称) of an OFD 签章"
    )


class BureauSignature(Contract):
    """The tax bureau's signature a 数电票 XML carries (``TaxBureauSignature``), kept as fixity
    information: a detached SM2 signature whose canonicalisation and key are not published, so
    not verified here (the invoice's authenticity rests on 查验)."""

    bureau: str = Field(description="The tax bureau (签名人): TaxSupervisionInfo/TaxBureauName")
    algorithm: str = Field(description="SignatureAlgorithm, e.g. 1.2.156.10197.1.501 (SM2)")
    format: str = Field(description="SignatureFormat, e.g. DETACH")
    signed_at: UtcDatetime | None = Field(
        default=None, description="SignatureTime, written in Beijing time (UTC+8), in UTC"
    )
    reference: str = Field(description="What it covers (its Reference URI)")
    value_sha256: Sha256Hex = Field(description="The digest of its SignatureValue")


class StoredFile(Contract):
    """An original file kept in the S3 store; events carry its address and digests, never bytes."""

    # A voucher's export, a material's description (what its files are), their files, or the
    # ERP journal a voucher was cut from.
    role: Literal["voucher", "description", "attachment", "source_export"]
    filename: str
    media_type: str
    size: Annotated[int, Field(ge=0)]
    bucket: str
    object_key: str
    sha256: Sha256Hex
    sm3: Sm3Hex
    format: str | None = Field(
        default=None,
        description="Format and version as its bytes say (格式信息: PDF 1.7, XML 1.0, OFD); "
        "None for files stored before it was recorded",
    )
    signature: str | None = Field(
        default=None,
        description="The signature, seal or timestamp it carries (固化信息), as found at intake: "
        "a 数电票 XML signature, a PDF signature, an OFD 签章; None if none",
    )
    bureau_signature: BureauSignature | None = Field(
        default=None, description="A 数电票 XML's TaxBureauSignature, as found at intake"
    )
    verified: tuple[VerifiedSignature, ...] = Field(
        default=(),
        description="Its signatures as verified at intake, in the order it carries "
        "them; () where none was verified",
    )


class BankAccount(Contract):
    """A bank account as the books know it: a sub-account of 银行存款 (1002), by its code
    (科目代码, e.g. ``100201``) and name. A bank statement names the account by the same code."""

    code: str = Field(pattern=r"^\d{4}[\d.]{0,20}$")
    name: str = ""


class VoucherLine(Contract):
    """One line (分录) of a voucher as archived: the account, the side and the amount
    (会计基础工作规范 第五十一条: 会计科目、金额). Red ink is a negative amount."""

    summary: str
    account_code: str
    account_name: str
    side: Literal["借", "贷"]
    amount: Money


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
    bank_accounts: tuple[BankAccount, ...] = Field(
        default=(),
        description="The 银行存款 sub-accounts its entries book: whose statements a "
        "complete year holds",
    )
    entries: tuple[VoucherLine, ...] = Field(
        default=(), description="Its lines (分录); () for vouchers archived before they were kept"
    )
    open_matter: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="未结清: the unsettled claim or debt, or other open matter, the ERP marked it "
        "with (第十九条): held from destruction from its archiving until an archivist releases it",
    )


# What ingest takes as a record of its own besides vouchers: the ledgers, reports, statements
# and returns of 第六条 (二)(三)(四). The registers (清册, 意见书) are the archive's own making.
MATERIAL_KINDS = frozenset(
    {
        RecordCategory.GENERAL_LEDGER,
        RecordCategory.SUBSIDIARY_LEDGER,
        RecordCategory.JOURNAL,
        RecordCategory.FIXED_ASSET_CARD,
        RecordCategory.OTHER_AUXILIARY_LEDGER,
        RecordCategory.PERIODIC_FINANCIAL_REPORT,
        RecordCategory.ANNUAL_FINANCIAL_REPORT,
        RecordCategory.BANK_RECONCILIATION,
        RecordCategory.BANK_STATEMENT,
        RecordCategory.TAX_RETURN,
    }
)
BANK_KINDS = frozenset({RecordCategory.BANK_STATEMENT, RecordCategory.BANK_RECONCILIATION})


class MaterialDescription(Contract):
    """An accounting record other than a voucher (a ledger, a report, a bank statement or
    reconciliation, a tax return: 第六条 (二)(三)(四)) as its uploader describes it, beside its
    files: what it is, the months it covers, its title (题名) and who made it (责任者).

    ``kind`` gives its category and retention (附表1, ``archive.domain.retention``); the months
    are of its fiscal year (an annual report or a year's ledger covers 1 to 12).
    """

    kind: RecordCategory
    title: str = Field(min_length=1, max_length=200)
    responsible: str = Field(min_length=1, max_length=100, description="责任者")
    period_from: Annotated[int, Field(ge=1, le=12)]
    period_to: Annotated[int, Field(ge=1, le=12)]
    bank_account: str | None = Field(
        default=None,
        pattern=r"^\d{4}[\d.]{0,20}$",
        description="A bank statement's or reconciliation's account: its 银行存款 sub-account code",
    )
    asset_no: str | None = Field(
        default=None, min_length=1, max_length=40, description="A fixed-asset card's 资产编号"
    )
    disposed_on: date | None = Field(
        default=None, description="A fixed-asset card's disposal (报废清理), if known at upload"
    )
    reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="What tells it from another of its kind and months (a subsidiary ledger's "
        "account, a tax return's tax)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> MaterialDescription:
        if self.kind not in MATERIAL_KINDS:
            raise ValueError(
                f"kind {self.kind.value} is not uploaded as material: one of "
                + ", ".join(sorted(k.value for k in MATERIAL_KINDS))
            )
        if self.period_from > self.period_to:
            raise ValueError(f"period_from {self.period_from} is after period_to {self.period_to}")
        if (self.bank_account is None) == (self.kind in BANK_KINDS):
            raise ValueError(
                "bank_account names the account of a bank statement or reconciliation, and "
                "of nothing else"
            )
        if (self.asset_no is None) == (self.kind is RecordCategory.FIXED_ASSET_CARD):
            raise ValueError("asset_no names the asset of a fixed-asset card, and of nothing else")
        if self.disposed_on is not None and self.kind is not RecordCategory.FIXED_ASSET_CARD:
            raise ValueError("disposed_on is a fixed-asset card's")
        return self

    def covers(self, month: int) -> bool:
        return self.period_from <= month <= self.period_to


def material_key(
    *, fonds_code: str, company_name: str, fiscal_year: int, material: MaterialDescription
) -> str:
    """The natural key of a material: no two records hold one. Its kind and months in the
    fonds, unit and year, and what tells it from others of its kind (account, asset, reference)."""
    m = material
    parts = [fonds_code, company_key(company_name), str(fiscal_year), m.kind.value]
    parts.append(f"{m.period_from:02d}-{m.period_to:02d}")
    parts += [company_key(x or "") for x in (m.bank_account, m.asset_no, m.reference)]
    return "|".join(parts)


def company_key(name: str) -> str:
    """A company name as compared: full-width and half-width forms alike （）= (), no spaces."""
    return "".join(unicodedata.normalize("NFKC", name).split())


class CorrectionKind(StrEnum):
    """How a voucher corrects one already booked, as 会计基础工作规范 第五十一条(五) names the
    ways: each is a voucher of its own, in its own year and period; the one corrected never
    changes. The rules of each are ``archive.domain.corrections.CORRECTION_RULES``."""

    REVERSAL = "注销"  # red ink, the same content as the voucher it cancels, in its year
    CORRECTING_ENTRY = "订正"  # blue ink, the voucher booked again correctly, in its year
    ADJUSTMENT = "调整"  # the difference only: more in blue, less in red, in its year
    PRIOR_YEAR_CORRECTION = "更正"  # blue ink, in a later year than the voucher it corrects


class CorrectionOf(Contract):
    """What a voucher says it corrects and how: the 档号 of a kept record, or the voucher as
    the ERP knows it (fiscal year, period, number with its 凭证字) in the same fonds and unit."""

    kind: CorrectionKind
    archive_code: str | None = Field(default=None, min_length=1, max_length=64)
    fiscal_year: Annotated[int, Field(ge=1990, le=2200)] | None = None
    period: Annotated[int, Field(ge=1, le=12)] | None = None
    voucher_no: str | None = Field(default=None, min_length=1, max_length=40)

    @model_validator(mode="after")
    def _named_once(self) -> CorrectionOf:
        by_erp = (self.fiscal_year, self.period, self.voucher_no)
        if self.archive_code is None and None in by_erp:
            raise ValueError(
                "name the voucher corrected: its archive_code (档号), or its fiscal_year, "
                "period and voucher_no"
            )
        if self.archive_code is not None and by_erp != (None, None, None):
            raise ValueError("name the voucher corrected one way: archive_code, or the ERP's")
        return self

    def names(self) -> str:
        """The voucher corrected, as the correction names it."""
        if self.archive_code is not None:
            return f"档号 {self.archive_code}"
        return f"voucher {self.voucher_no} of {self.fiscal_year}-{self.period:02d}"


class CorrectionLink(Contract):
    """A correction and the record it corrects, as kept: shown from either side."""

    kind: CorrectionKind
    record_id: uuid.UUID
    archive_code: str


def voucher_key(
    *,
    fonds_code: str,
    company_name: str,
    fiscal_year: int,
    period: int,
    voucher_no: str,
    corrects: str | None = None,
) -> str:
    """The natural key of a bookkeeping voucher: no two records hold one.

    Fonds, accounting unit (compared as ``company_key``), fiscal year, period and voucher
    number (numbers restart each period). A correction is a voucher of its own, with its own
    number; ``corrects`` keys only those archived as a version of another (``-V2``, before
    corrections were vouchers in their own right).
    """
    parts = [fonds_code, company_key(company_name), str(fiscal_year), f"{period:02d}"]
    parts.append(company_key(voucher_no))
    if corrects:
        parts.append(f"corrects:{corrects}")
    return "|".join(parts)


class CheckOutcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_PERFORMED = "not_performed"  # it applies, but was not done: the report says why
    NOT_APPLICABLE = "not_applicable"  # nothing here it could apply to: the report says why


CheckProperty = Literal["authenticity", "integrity", "usability", "security"]
"""The four properties (四性): 真实性, 完整性, 可用性, 安全性."""


class FileRef(Contract):
    """A file of an upload, told apart by position and digest: two files may share a name."""

    position: Annotated[int, Field(ge=0, description="0 the voucher, 1… attachments in order")]
    filename: str
    sha256: Sha256Hex


class CheckFinding(Contract):
    """One thing a check found wrong, and where: a file, a field, or the upload as a whole."""

    message: str
    file: FileRef | None = None
    field: str | None = None


class CheckResult(Contract):
    """One item of the four-property check (四性检测); ``code`` is the DA/T 70-2018 item it
    implements, or ``AAP-…`` for a check of the platform's own (see ``contracts.checks``)."""

    code: str = Field(pattern=r"^([1-4]-\d{1,2}|AAP-[A-Z0-9-]+)$")
    name: str
    property: CheckProperty
    outcome: CheckOutcome
    detail: str = ""
    required: bool = Field(default=False, description="The conclusion needs it passed")
    standard_item: str | None = Field(
        default=None, description="The DA/T 70-2018 item implemented or, for AAP-…, supported"
    )
    findings: tuple[CheckFinding, ...] = ()


class CheckConclusion(Contract):
    """What a report amounts to: 通过 only when every required item passed."""

    verdict: Literal["passed", "failed", "incomplete"]
    text: str = Field(description="通过, or what failed (未通过) and was not performed (未执行)")
    failed: tuple[str, ...] = ()
    not_performed: tuple[str, ...] = Field(default=(), description="required items not done")


class InvoiceStatus(StrEnum):
    """What 查验 on the tax platform found (财会〔2020〕6号 三(一)), in the platform's words."""

    NORMAL = "正常"
    VOIDED = "作废"
    REVERSED = "红冲"
    NOT_FOUND = "查无此票"
    MISMATCH = "不一致"  # the platform holds the invoice with other fields than those asked
    OTHER = "其他"  # a state the archive does not know: held for review, naming it
    UNVERIFIED = "未查验"  # the platform did not answer: asked again until it does

    @property
    def answered(self) -> bool:
        return self is not InvoiceStatus.UNVERIFIED


class InvoiceVerification(Contract):
    """An invoice 查验'd on the tax platform, as asked at intake (or again later)."""

    status: InvoiceStatus
    detail: str = Field(
        default="", description="The platform's own words, or why it did not answer"
    )
    provider: str = Field(description="Who answered: the 查验 provider configured")
    checked_at: UtcDatetime


class InvoiceRef(Contract):
    """An electronic invoice found among a voucher's attachments: parsed from its signed XML, or
    read from a printout's text (PDF, OFD), which anyone can edit (``source``)."""

    invoice_number: Annotated[str, Field(pattern=r"^[0-9]{8,20}$")]
    invoice_code: str | None = None  # older invoices only; 数电票 have a 20-digit number alone
    check_code: str | None = Field(
        default=None,
        pattern=r"^[0-9]{20}$",
        description="An older 普通发票's 校验码 (20 digits), as read: what 查验 asks it by",
    )
    seller_tax_id: str
    buyer_tax_id: str
    seller_name: str = ""
    buyer_name: str = ""
    issue_date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    total: Money
    file_sha256: Sha256Hex  # the file it was read from: the signed XML, or the printout
    printout_sha256: Sha256Hex | None = None  # a PDF/OFD printout of the same invoice, if uploaded
    source: Literal["xml", "printout_text", "ofd_data"] = Field(
        default="xml",
        description="Where its fields were read: the 数电票 XML, a printout's text layer, or an "
        "OFD's structured data (CustomData, its attached original XML, a custom tag); the last two "
        "are unauthenticated "
        "until a signature or 查验 confirms them",
    )
    booked_by: Literal["buyer", "seller"] = Field(
        default="buyer",
        description="The party booking it: the buyer for an invoice received (进项), the seller "
        "for one issued (销项)",
    )
    verification: InvoiceVerification | None = Field(
        default=None, description="Its 查验 at intake; None where no provider was configured"
    )
    kind: str | None = Field(
        default=None,
        description="票种 as the 数电票 XML's labels name it, e.g. 电子发票（普通发票）, "
        "电子发票（铁路电子客票）; None where read from a printout or OFD",
    )
    reversal: bool = Field(
        default=False,
        description="A 红字 invoice: its own invoice, negative amounts, offsetting ``offsets``",
    )
    offsets: str | None = Field(
        default=None, description="The blue invoice a 红字 one offsets, where its XML names it"
    )

    @property
    def booking_key(self) -> str:
        """What makes a second booking of this invoice by the same party 重复入账."""
        party = self.seller_tax_id if self.booked_by == "seller" else self.buyer_tax_id
        return invoice_booking_key(self.invoice_number, self.invoice_code, party)


class BankReceiptRef(Contract):
    """A bank's electronic receipt (银行电子回单) among a voucher's attachments, read from its
    text: the transaction it proves, matched to the voucher's 银行存款 line."""

    number: str = Field(min_length=6, max_length=40, description="回单编号 or 交易流水号")
    transaction_date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    amount: Money
    payer_account: str
    payee_account: str
    side: Literal["payer", "payee", "unknown"] = Field(
        description="The company's side: payee where its 银行存款 line is debited with the "
        "amount, payer where credited; unknown where no line matches"
    )
    file_sha256: Sha256Hex
    source: Literal["printout_text", "ofd_data"] = "printout_text"

    @property
    def booking_key(self) -> str:
        """One booking per receipt and side: each company books its own side of a transfer."""
        account = {"payer": self.payer_account, "payee": self.payee_account}.get(
            self.side, f"{self.payer_account}>{self.payee_account}"
        )
        return receipt_booking_key(self.number, account)


def receipt_booking_key(number: str, account: str) -> str:
    return f"回单:{number}@{account}"


class FiscalBillRef(Contract):
    """A fiscal e-bill (财政电子票据) among a voucher's attachments: what a public institution
    issues for a fee or a non-tax payment (非税收入, 医疗收费…), numbered by the 财政部门 with an
    8-digit 票据代码 and a 10-digit 票据号码. Read from its text (a PDF's or an OFD's), which
    anyone can edit: used for the duplicate check, held until a signature confirms it."""

    bill_code: str = Field(pattern=r"^[0-9]{8}$", description="票据代码")
    bill_number: str = Field(pattern=r"^[0-9]{10}$", description="票据号码")
    kind: str | None = Field(
        default=None, description="The bill's title, e.g. 非税收入统一票据（电子）"
    )
    issue_date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="开票日期")
    payer: str = Field(min_length=1, description="交款人")
    payer_id: str | None = Field(default=None, description="交款人统一社会信用代码")
    payee: str = Field(default="", description="收款单位")
    total: Money = Field(description="金额合计（小写）")
    check_code: str | None = Field(default=None, description="校验码")
    file_sha256: Sha256Hex

    @property
    def booking_key(self) -> str:
        """One booking per bill and payer (by its credit code, else its name)."""
        return fiscal_bill_booking_key(
            self.bill_code, self.bill_number, self.payer_id or self.payer
        )


def fiscal_bill_booking_key(code: str, number: str, payer: str) -> str:
    return f"财政票据:{code}-{number}@{payer}"


def invoice_booking_key(number: str, code: str | None, party_tax_id: str) -> str:
    """One booking per invoice and party: the invoice (an older invoice's code and number, a
    数电票's 20-digit number) and the tax id of the party booking it. Group companies trading
    with each other each book their own side of one invoice."""
    invoice = f"{code}-{number}" if code else number
    return f"{invoice}@{party_tax_id}"


def invoice_of(booking_key: str) -> str:
    """The invoice a booking key names; the whole key of a booking made before keys named the
    party (such a booking stands against every party's)."""
    return booking_key.split("@", 1)[0]
