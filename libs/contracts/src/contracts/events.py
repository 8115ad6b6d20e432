"""Every event of the platform: facts, named in the past tense."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import Field, model_validator

from contracts.borrowing import BorrowingMode, GrantAction
from contracts.envelope import Envelope, EventData
from contracts.records import (
    BankReceiptRef,
    CheckConclusion,
    CheckResult,
    CorrectionKind,
    CorrectionLink,
    CorrectionOf,
    FiscalBillRef,
    InvoiceRef,
    InvoiceVerification,
    MaterialDescription,
    RecordCategory,
    RetentionPeriod,
    StoredFile,
    VoucherSummary,
)
from contracts.types import Contract, Sha256Hex, Sm3Hex, UtcDatetime

MAX_BORROWING_DAYS = 90  # the longest borrowing (借阅) a request may ask for


class Problem(Contract):
    """One thing wrong with an input: where, and what."""

    field: str
    message: str


# --- ingest -------------------------------------------------------------------------------


class _Ingested(EventData):
    """What every version of ``DocumentIngested`` says."""

    document_id: uuid.UUID
    fonds_code: str  # 全宗号
    company_name: str
    fiscal_year: Annotated[int, Field(ge=1900, le=2200)]
    period: Annotated[int, Field(ge=1, le=12)]
    category: RecordCategory
    files: tuple[StoredFile, ...] = Field(min_length=1)
    submitted_by: str
    submitted_at: UtcDatetime
    invoices: tuple[InvoiceRef, ...] = ()
    receipts: tuple[BankReceiptRef, ...] = Field(
        default=(), description="The bank e-receipts (银行电子回单) among the attachments"
    )
    fiscal_bills: tuple[FiscalBillRef, ...] = Field(
        default=(), description="The fiscal e-bills (财政电子票据) among the attachments"
    )

    check_report: tuple[CheckResult, ...] = ()
    check_conclusion: CheckConclusion | None = None
    review_required: bool = Field(default=False, description="A check asks an archivist's review")
    source_export: StoredFile | None = Field(
        default=None, description="The ERP journal this voucher was cut from, stored whole"
    )
    corrects_archive_code: str | None = Field(
        default=None,
        description="Before corrections were vouchers of their own: the 档号 this voucher "
        "re-versioned (-V2). Not set any more; ``correction`` says what a voucher corrects",
    )
    correction: CorrectionOf | None = Field(
        default=None, description="The voucher this one corrects, and how (第五十一条(五))"
    )

    @property
    def booking_keys(self) -> list[str]:
        """What the upload books, once per party: each invoice, bank receipt and fiscal e-bill."""
        return [
            *(i.booking_key for i in self.invoices),
            *(r.booking_key for r in self.receipts),
            *(b.booking_key for b in self.fiscal_bills),
        ]


class DocumentIngestedV1(_Ingested):
    """Version 1 of ``DocumentIngested``: vouchers only. No longer published; kept so that its
    events stay readable (``DocumentIngested.from_v1``)."""

    event_type = "DocumentIngested"

    voucher: VoucherSummary


class DocumentIngested(_Ingested):
    """A voucher export and its attachments, or a material (a ledger, a report, a statement…)
    and its files, passed intake and their originals are stored.

    Version 2: a document is a voucher or a material (version 1 knew vouchers only)."""

    event_type = "DocumentIngested"
    version = 2

    voucher: VoucherSummary | None = Field(default=None, description="A voucher's header")
    material: MaterialDescription | None = Field(
        default=None, description="What a material is; ``period`` is the last month it covers"
    )

    @model_validator(mode="after")
    def _voucher_or_material(self) -> DocumentIngested:
        if (self.voucher is None) == (self.material is None):
            raise ValueError("a document is a voucher or a material: exactly one of the two")
        return self

    @classmethod
    def from_v1(cls, v1: DocumentIngestedV1) -> DocumentIngested:
        """A version-1 event read as version 2: every v1 field keeps its meaning."""
        return cls.model_validate(v1.model_dump())

    @property
    def title(self) -> str:
        """What the document is, in a line: a voucher's number and summary, a material's 题名."""
        if self.material is not None:
            return self.material.title
        assert self.voucher is not None
        return f"{self.voucher.voucher_no} {self.voucher.summary}"


class DocumentRejected(EventData):
    """An upload was refused at intake; nothing of it was stored as accepted."""

    event_type = "DocumentRejected"

    submission_id: uuid.UUID
    filename: str
    problems: tuple[Problem, ...] = Field(min_length=1)
    submitted_by: str
    submitted_at: UtcDatetime
    check_report: tuple[CheckResult, ...] = ()
    check_conclusion: CheckConclusion | None = None


class InvoiceVerified(EventData):
    """The tax platform answered a 查验 that it had not answered at intake (财会〔2020〕6号
    三(一)): the voucher was accepted with the gap recorded, and this is the answer."""

    event_type = "InvoiceVerified"

    document_id: uuid.UUID
    fonds_code: str
    invoice_number: str
    invoice_code: str | None = None
    booking_key: str
    verification: InvoiceVerification
    attempts: int = Field(ge=1, description="How many times the platform was asked")


# --- archive ------------------------------------------------------------------------------


class RecordArchived(EventData):
    """A document became an archive record (会计档案) with its archive code (档号)."""

    event_type = "RecordArchived"

    record_id: uuid.UUID
    document_id: uuid.UUID
    archive_code: str
    fonds_code: str
    fiscal_year: int
    category: RecordCategory
    retention: RetentionPeriod
    retention_until: date | None = Field(description="Last day of retention; None if permanent")
    originals: tuple[StoredFile, ...]
    archived_at: UtcDatetime
    invoices: tuple[InvoiceRef, ...] = ()
    receipts: tuple[BankReceiptRef, ...] = Field(
        default=(), description="The bank e-receipts (银行电子回单) it was archived with"
    )
    fiscal_bills: tuple[FiscalBillRef, ...] = Field(
        default=(), description="The fiscal e-bills (财政电子票据) it was archived with"
    )
    check_report: tuple[CheckResult, ...] = ()
    check_conclusion: CheckConclusion | None = Field(
        default=None, description="None for records archived before conclusions were kept"
    )
    review_required: bool = False
    period: int | None = None
    voucher: VoucherSummary | None = None
    material: MaterialDescription | None = None
    package: str | None = Field(
        default=None, description="Key prefix of the record's package: originals, metadata.xml"
    )
    supersedes: uuid.UUID | None = Field(
        default=None,
        description="Archived as a version (-V2) of this record, before corrections were "
        "vouchers of their own; never set any more",
    )
    corrects: CorrectionLink | None = Field(
        default=None,
        description="The kept record this voucher corrects, and how; None if it corrects none, "
        "or names one the archive did not hold at accession (then held for review)",
    )
    submitted_by: str | None = Field(
        default=None,
        description="Who uploaded it (ingest's authenticated principal): never its reviewer. "
        "None for records archived before it was kept",
    )
    company_name: str | None = Field(
        default=None,
        description="立档单位名称: the company whose books it is; None for records archived "
        "before it was kept",
    )
    package_format: int = Field(
        default=1,
        description="How its package's metadata.xml is written: 1 the first format, 2 the "
        "DA/T 46/94 elements with a schema. A package is locked once written: a record keeps "
        "the format it was archived in",
    )

    @property
    def title(self) -> str:
        """题名: a voucher's 摘要, a material's title; else (an OA approval record) its category."""
        if self.voucher is not None:
            return self.voucher.summary
        return self.material.title if self.material is not None else self.category.value


class LegalHoldPlaced(EventData):
    """A record concerns unsettled claims or open matters (第十九条): it must not be destroyed."""

    event_type = "LegalHoldPlaced"

    record_id: uuid.UUID
    archive_code: str
    reason: str = Field(min_length=1)
    placed_by: str
    placed_at: UtcDatetime


class LegalHoldReleased(EventData):
    """The matter behind a legal hold was settled; the record follows its retention again."""

    event_type = "LegalHoldReleased"

    record_id: uuid.UUID
    archive_code: str
    reason: str = Field(min_length=1)
    released_by: str
    released_at: UtcDatetime


class RecordReviewed(EventData):
    """An archivist reviewed a record that a check had held for review, and decided."""

    event_type = "RecordReviewed"

    record_id: uuid.UUID
    archive_code: str
    decision: Literal["accepted", "needs_correction"]
    note: str = ""
    reviewed_by: str
    reviewed_at: UtcDatetime


class RecordsHandedOver(EventData):
    """The accounting department handed a year's records over to the archive department (移交),
    which accepted them after re-checking every original (第十一条)."""

    event_type = "RecordsHandedOver"

    handover_id: uuid.UUID
    fonds_code: str
    fiscal_year: int
    record_ids: tuple[uuid.UUID, ...] = Field(min_length=1)
    volumes: int
    handed_over_by: str  # 移交人, of the accounting department
    received_by: str  # 接收人, of the archive department
    supervised_by: str | None = None  # 监交人
    handed_over_at: UtcDatetime
    waived: tuple[GapWaived, ...] = Field(
        default=(), description="What the year lacks, accepted by an archivist with a reason"
    )
    offered_at: UtcDatetime | None = Field(
        default=None, description="When the 移交人 offered it (None on a handover before)"
    )
    supervised_at: UtcDatetime | None = Field(
        default=None, description="When the 监交人 confirmed the offer in the platform"
    )
    handover_list: str | None = Field(
        default=None,
        description="档号 of its 移交清册, archived as a record with the three confirmations "
        "printed on it (None on a handover before lists were kept)",
    )
    handover_list_record_id: uuid.UUID | None = None


class PaperVolumeRegistered(EventData):
    """An archivist registered a paper volume kept beside the electronic records: where it is,
    and which records it relates to (第八条(三)(六): the retrieval link to related paper
    archives, the paper copies of 永久 records)."""

    event_type = "PaperVolumeRegistered"

    volume_id: uuid.UUID
    fonds_code: str
    fiscal_year: int
    title: str = Field(min_length=1, max_length=200, description="题名, e.g. 2025年度财务会计报告")
    location: str = Field(min_length=1, max_length=200, description="存放位置, e.g. 档案室 A-03-2")
    record_ids: tuple[uuid.UUID, ...] = Field(min_length=1)
    archive_codes: tuple[str, ...] = Field(min_length=1, description="档号 of those records")
    registered_by: str
    registered_at: UtcDatetime


class HandoverSupervised(EventData):
    """The 监交人 the 移交人 named confirmed a handover offer in the platform, with their own
    sign-in (第二十四条: the handover is supervised, and the supervisor signs the 移交清册)."""

    event_type = "HandoverSupervised"

    offer_id: uuid.UUID
    fonds_code: str
    fiscal_year: int
    offered_by: str
    supervised_by: str
    supervised_at: UtcDatetime


class CorrectionLinked(EventData):
    """A correction archived before the voucher it names was linked to it once that voucher
    was archived (会计基础工作规范 第五十一条(五)): shown from either side from now on."""

    event_type = "CorrectionLinked"

    correction_record_id: uuid.UUID
    correction_archive_code: str
    kind: CorrectionKind
    corrected_record_id: uuid.UUID
    corrected_archive_code: str
    fonds_code: str
    linked_at: UtcDatetime


class AssetDisposalRecorded(EventData):
    """A fixed-asset card's asset was disposed of (报废清理): the card, held until now, is kept
    five years from the end of the disposal's year (附表1 序号6), then appraised as any other."""

    event_type = "AssetDisposalRecorded"

    record_id: uuid.UUID
    archive_code: str
    asset_no: str
    disposed_on: date
    retention_until: date = Field(description="The card's last day of retention now")
    recorded_by: str  # the archivist
    recorded_at: UtcDatetime


class GapWaived(EventData):
    """An archivist accepted a year as complete without something it should hold (a voucher
    number, a ledger, a report, a bank statement), for a reason: the handover then goes ahead,
    and its 移交清册 lists what was waived."""

    event_type = "GapWaived"

    fonds_code: str
    fiscal_year: int
    gap: str = Field(description="The gap's id, as GET /v1/completeness names it")
    description: str = Field(description="What is missing, as the completeness report said")
    reason: str = Field(min_length=1)
    waived_by: str  # the archivist
    waived_at: UtcDatetime


class CustodyExtended(EventData):
    """The archive department consented to the accounting department keeping a year's records
    longer than the one year of temporary custody (临时保管, 第十一条: three years at most)."""

    event_type = "CustodyExtended"

    fonds_code: str
    fiscal_year: int
    extended_years: int = Field(ge=1, le=2, description="Years beyond the first")
    custody_until: date = Field(description="The last day of temporary custody now")
    reason: str = Field(min_length=1)
    consented_by: str  # of the archive department
    extended_at: UtcDatetime


class IntegrityAlertRaised(EventData):
    """Re-checking an archived record found a file that no longer agrees with its metadata:
    a changed digest (1-1), a wrong archive code (1-7), a wrong size or type (1-10), a missing
    original (1-11, 2-7), or package metadata that differs from the record (AAP-PACKAGE-KEPT)."""

    event_type = "IntegrityAlertRaised"

    record_id: uuid.UUID
    archive_code: str
    filename: str
    object_key: str
    expected_sha256: str
    found_sha256: str | None = Field(description="None if the original could not be read")
    detail: str
    detected_at: UtcDatetime
    check_code: str = Field(
        default="1-1",
        pattern=r"^([1-4]-\d{1,2}|AAP-[A-Z0-9-]+)$",
        description="The check item that failed (contracts.checks)",
    )


class RecordsAccessed(EventData):
    """A principal read archive records (利用): a search's results, a record, its drill-through,
    an original downloaded, a register. Every read is on record, with who, how and under which
    grant."""

    event_type = "RecordsAccessed"

    principal: str = Field(description="The authenticated principal who read")
    action: Literal["search", "view", "drill", "download", "register", "page", "copy"] = Field(
        description="view: a record's description; page: a page of an original, rendered and "
        "watermarked (查阅); download: an original by role; copy: a watermarked copy under a "
        "复制 grant"
    )
    record_ids: tuple[uuid.UUID, ...] = Field(description="What was shown or handed out")
    fonds_codes: tuple[str, ...] = Field(description="全宗号 of those records")
    grant_id: uuid.UUID | None = Field(
        default=None, description="The borrowing grant the read was allowed under; None: a role"
    )
    original_sha256: str | None = Field(default=None, description="The original downloaded")
    query: dict[str, str] = Field(
        default_factory=dict, description="A search's criteria, a register's name"
    )
    client_address: str | None = Field(default=None, description="Where the request came from")
    accessed_at: UtcDatetime


# --- approval -----------------------------------------------------------------------------


class ApprovalRequested(EventData):
    """A borrowing request (借阅申请) was filed and awaits the OA system's decision."""

    event_type = "ApprovalRequested"

    request_id: uuid.UUID
    kind: Literal["borrowing"]
    applicant: str
    fonds_code: str | None = Field(
        default=None,
        description="全宗号 of the records: it routes the request to the OA system deciding for "
        "that fonds, and a grant that follows covers records of this fonds only (always set "
        "since OA connections were routed by fonds)",
    )
    record_ids: tuple[uuid.UUID, ...] = Field(min_length=1)
    reason: str = Field(min_length=1)
    days: Annotated[int, Field(ge=1, le=MAX_BORROWING_DAYS)]
    requested_at: UtcDatetime
    mode: BorrowingMode | None = Field(
        default=None,
        description="借阅方式 (contracts.borrowing): view (查阅) or copy (复制); None only on a "
        "request filed before modes were told apart, which granted reading and downloading",
    )


class OaDecisionMadeV1(EventData):
    """Version 1 of ``OaDecisionMade``: approved or rejected only. OA systems that publish it
    keep their v1 topic; the approval service reads it as version 2 (``OaDecisionMade.from_v1``)."""

    event_type = "OaDecisionMade"

    request_id: uuid.UUID
    decision: Literal["approved", "rejected"]
    approver: str
    comment: str = ""
    oa_instance_id: str = Field(min_length=1, description="The OA system's own process id")
    decided_at: UtcDatetime


class ApprovalDecidedV1(EventData):
    """Version 1 of ``ApprovalDecided``: approved or rejected only. No longer published; kept
    so that its events stay readable (``ApprovalDecided.from_v1``)."""

    event_type = "ApprovalDecided"

    request_id: uuid.UUID
    kind: Literal["borrowing"]
    applicant: str
    fonds_code: str | None = Field(
        default=None,
        description="全宗号 of the request: a grant covers this fonds only (always set since OA "
        "connections were routed by fonds; None only on a decision taken before)",
    )
    record_ids: tuple[uuid.UUID, ...]
    decision: Literal["approved", "rejected"]
    approver: str
    comment: str
    oa_instance_id: str
    decided_at: UtcDatetime
    access_until: UtcDatetime | None = Field(description="End of the borrowing; None if rejected")
    days: int | None = Field(
        default=None,
        ge=1,
        le=MAX_BORROWING_DAYS,
        description="The days the applicant asked for, as the approval service keeps the request",
    )


BORROWING_STATES = ("approved", "rejected", "cancelled", "revoked", "expired")


class ApprovalStep(Contract):
    """One approver's step in the OA's trail (会签 and 或签 steps as the OA reports them)."""

    approver: str = Field(description="The platform principal the OA user is mapped to")
    oa_user_id: str = Field(description="The approver's id in the OA, as the OA sent it")
    decision: Literal["approved", "rejected", "pending", "redirected", "cancelled"]
    comment: str = ""
    decided_at: UtcDatetime | None = None


class ApprovalDecided(EventData):
    """The archive's approval flow changed state on the OA's word, or on its own clock.

    Version 2: besides approved and rejected, a request can be cancelled (withdrawn before the
    end), revoked after approval (通过后撤销: access is withdrawn at once) or expired, and the
    approver trail travels with it. One event per state a request reaches."""

    event_type = "ApprovalDecided"
    version = 2

    request_id: uuid.UUID
    kind: Literal["borrowing"]
    applicant: str
    fonds_code: str | None = Field(
        default=None, description="全宗号 of the request: a grant covers this fonds only"
    )
    record_ids: tuple[uuid.UUID, ...]
    decision: Literal["approved", "rejected", "cancelled", "revoked", "expired"]
    approver: str = Field(description="Who decided: the OA approver, or the platform on expiry")
    comment: str
    oa_connection: str | None = Field(default=None, description="The OA connection that decided")
    oa_instance_id: str
    decided_at: UtcDatetime
    access_until: UtcDatetime | None = Field(
        description="End of the borrowing while approved; None in every other state"
    )
    days: int | None = Field(default=None, ge=1, le=MAX_BORROWING_DAYS)
    trail: tuple[ApprovalStep, ...] = Field(
        default=(), description="The OA's approver trail, in its order, where it sent one"
    )
    mode: BorrowingMode | None = Field(
        default=None,
        description="借阅方式 (contracts.borrowing): view (查阅) or copy (复制); None only on a "
        "request filed before modes were told apart, which granted reading and downloading",
    )

    @classmethod
    def from_v1(cls, v1: ApprovalDecidedV1) -> ApprovalDecided:
        """A version-1 event read as version 2: every v1 field keeps its meaning."""
        return cls.model_validate(v1.model_dump())


class OaDecisionMade(EventData):
    """Published by an OA system on its connection's decisions topic, or posted to the signed
    callback: what the OA said about a request that was routed to it.

    Version 2: besides approved and rejected, cancelled (withdrawn before the end), revoked
    (withdrawn after approval: access is taken away at once) and expired, and the approver
    trail where the OA has one."""

    event_type = "OaDecisionMade"
    version = 2

    request_id: uuid.UUID
    decision: Literal["approved", "rejected", "cancelled", "revoked", "expired"]
    approver: str
    comment: str = ""
    oa_instance_id: str = Field(min_length=1, description="The OA system's own process id")
    decided_at: UtcDatetime
    trail: tuple[ApprovalStep, ...] = Field(
        default=(), description="The OA's approver trail, in its order, where it has one"
    )

    @classmethod
    def from_v1(cls, v1: OaDecisionMadeV1) -> OaDecisionMade:
        return cls.model_validate(v1.model_dump())


class FormEntry(Contract):
    """One field of an OA approval form, as the OA labels and fills it."""

    label: str
    value: str


class BusinessKey(Contract):
    """A number the ERP and the OA both know one transaction by (业务关联键): what links an OA
    approval record to the voucher it justified."""

    kind: Literal["invoice_number", "voucher_no"]
    value: str = Field(min_length=1, max_length=64)


class OaStep(Contract):
    """One approver's step in an OA approval kept as a record (会签 and 或签 as the OA reports
    them). The approver is the OA's user: an expense approver need not be a platform user."""

    oa_user_id: str
    principal: str | None = Field(
        default=None,
        description="The platform principal of the OA user, where the connection maps one",
    )
    decision: Literal["approved", "rejected", "pending", "redirected", "cancelled"]
    comment: str = ""
    decided_at: UtcDatetime | None = None


class OaApprovalCompleted(EventData):
    """An expense or payment approval (报销审批, 付款审批) finished in an OA: approved, or paid
    (WeCom's 已支付). The archive keeps it as a source document (原始凭证) of its own and links
    it to the voucher it justified by the business keys."""

    event_type = "OaApprovalCompleted"
    version = 1

    approval_key: str = Field(description="vendor|corp|instance: one OA approval, one record")
    oa_connection: str
    vendor: str
    corp_id: str = Field(
        description="The OA tenant: DingTalk app key, Feishu app id, WeCom corp id"
    )
    instance_id: str = Field(min_length=1)
    process_code: str
    title: str
    fonds_code: str = Field(description="全宗号 the connection files its expense approvals under")
    applicant: str = Field(description="The applicant's OA user id")
    outcome: Literal["approved", "paid"]
    form: tuple[FormEntry, ...]
    trail: tuple[OaStep, ...]
    business_keys: tuple[BusinessKey, ...] = Field(
        description="The keys read from the form, as configured for the connection"
    )
    started_at: UtcDatetime | None = None
    finished_at: UtcDatetime


class ApprovalRecordLinked(EventData):
    """An archived OA approval record was linked to the voucher it justified (both are locked,
    so the link is a record of its own)."""

    event_type = "ApprovalRecordLinked"
    version = 1

    voucher_record_id: uuid.UUID
    voucher_archive_code: str
    approval_record_id: uuid.UUID
    approval_archive_code: str
    fonds_code: str
    key: BusinessKey
    linked_at: UtcDatetime


# --- permission ---------------------------------------------------------------------------


class AccessGranted(EventData):
    """A time-bound grant lets a user act on archive records."""

    event_type = "AccessGranted"

    grant_id: uuid.UUID
    user: str
    actions: tuple[GrantAction, ...]
    fonds_code: str | None = Field(
        default=None,
        description="全宗号: the grant covers the records of this fonds only (None only on a "
        "grant made before OA connections were routed by fonds)",
    )
    record_ids: tuple[uuid.UUID, ...]
    valid_from: UtcDatetime
    valid_until: UtcDatetime
    request_id: uuid.UUID


class AccessRevokedV1(EventData):
    """Version 1 of ``AccessRevoked``. No longer published; kept so its events stay readable."""

    event_type = "AccessRevoked"

    grant_id: uuid.UUID
    user: str
    record_ids: tuple[uuid.UUID, ...]
    reason: Literal["expired", "withdrawn"]
    revoked_at: UtcDatetime
    revoked_by: str | None = None  # who withdrew it; None when its time ran out


class AccessRevoked(EventData):
    """A grant ended: its time ran out, the security administrator withdrew it, or the OA
    withdrew the approval it came from (version 2: ``withdrawn_in_oa``, and the request)."""

    event_type = "AccessRevoked"
    version = 2

    grant_id: uuid.UUID
    user: str
    record_ids: tuple[uuid.UUID, ...]
    reason: Literal["expired", "withdrawn", "withdrawn_in_oa"]
    revoked_at: UtcDatetime
    revoked_by: str | None = None  # who withdrew it; None when its time ran out
    request_id: uuid.UUID | None = Field(
        default=None, description="The borrowing request the grant came from"
    )

    @classmethod
    def from_v1(cls, v1: AccessRevokedV1) -> AccessRevoked:
        return cls.model_validate(v1.model_dump())


class RoleAssigned(EventData):
    """The security administrator (安全管理员) gave a principal a role in a fonds."""

    event_type = "RoleAssigned"

    user: str
    role: str  # contracts.roles.Role
    fonds_code: str  # 全宗号, or "*" for every fonds
    # The IdP's subject the role is held by (`sub` of the platform's issuer); None until the
    # person named ``user`` first signs in.
    subject: str | None = None
    assigned_by: str
    assigned_at: UtcDatetime


class RoleRevoked(EventData):
    """The security administrator took a role in a fonds away from a principal."""

    event_type = "RoleRevoked"

    user: str
    role: str
    fonds_code: str
    # The IdP's subject the role is held by (`sub` of the platform's issuer); None until the
    # person named ``user`` first signs in.
    subject: str | None = None
    revoked_by: str
    revoked_at: UtcDatetime


# --- audit --------------------------------------------------------------------------------


class TrailExported(EventData):
    """A principal exported the whole audit trail (an access to the evidence itself)."""

    event_type = "TrailExported"

    principal: str
    entries_to: int = Field(ge=0, description="The export held entries 1 to this one")
    client_address: str | None = None
    exported_at: UtcDatetime


class RedrivenLetter(Contract):
    """One dead letter handed to its handler again, named by where it was first read, and what
    it is (as far as it can be read: a poison message may be no event at all)."""

    topic: str
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)
    error_type: str = Field(description="Why it had been set aside")
    reason: str = Field(default="", description="The error it was set aside with")
    event_type: str | None = Field(default=None, description="Its CloudEvents type, if an event")
    source: str | None = Field(default=None, description="The source it names, if an event")
    subject: str | None = Field(default=None, description="Its subject, if an event")


class SkippedLetter(Contract):
    """A record of a group's dead-letter topic that re-drive would not hand over: it names no
    position on the topic it lies beside, or its message is not what that position holds."""

    partition: int = Field(ge=0, description="On the dead-letter topic")
    offset: int = Field(ge=0, description="On the dead-letter topic")
    dead_letter_topic: str
    why: str


class DeadLettersRedriven(EventData):
    """A service re-drove its consumer group's dead letters (死信重投) once their cause was
    mended: each handed to its handler again, which takes an event once whatever happens."""

    event_type = "DeadLettersRedriven"

    group: str = Field(description="The consumer group whose dead letters these were")
    principal: str = Field(description="The authenticated principal who asked")
    letters: tuple[RedrivenLetter, ...]
    skipped: tuple[SkippedLetter, ...] = Field(
        default=(), description="Records of its dead-letter topics not handed over, and why"
    )
    remaining: int = Field(ge=0, description="Dead letters of the group left afterwards")
    finished: bool = Field(
        description="False: stopped (its time limit, or a letter failing again), the rest left"
    )
    redriven_at: UtcDatetime


class CheckpointPublished(EventData):
    """The audit log signed a checkpoint of its Merkle tree and published it where the log's
    operator cannot take it back (contracts.checkpoint, contracts.trail)."""

    event_type = "CheckpointPublished"

    origin: str = Field(description="The log's name, aap.<namespace>.audit")
    tree_size: int = Field(ge=1)
    root_hash: str = Field(description="Base64 of the tree's SHA-256 root (RFC 6962)")
    note: str = Field(description="The checkpoint as a C2SP signed note, Ed25519")
    signed_at: UtcDatetime


# --- operations ---------------------------------------------------------------------------


class BackupTaken(EventData):
    """The platform was backed up (会计档案管理办法 第八条 (五): 电子会计档案的备份): what the
    backup holds, as its manifest lists it. The manifest's SHA-256 ties the trail to the files."""

    event_type = "BackupTaken"

    backup_id: uuid.UUID
    namespace: str
    manifest_sha256: Sha256Hex
    databases: tuple[str, ...] = Field(description="The services whose database it holds")
    objects: int = Field(ge=0, description="Object versions backed up, each with SHA-256 and SM3")
    files: int = Field(ge=0, description="Files the manifest lists, each with its SHA-256")
    target: str = Field(description="Where the backup was written (a directory, an S3 URL)")
    taken_at: UtcDatetime


class RestoredObject(Contract):
    """One object written again: S3 gave it a new version id; its bytes were checked first."""

    bucket: str  # its purpose: archive-originals, ingest-originals, …
    key: str
    old_version_id: str
    new_version_id: str
    sha256: Sha256Hex
    sm3: Sm3Hex


class RecordsRestored(EventData):
    """A backup was brought back into an empty stack: each object's old and new version id
    (later reads use the new one), in parts when there are many (``part`` of ``parts``)."""

    event_type = "RecordsRestored"

    backup_id: uuid.UUID
    namespace: str
    manifest_sha256: Sha256Hex
    part: int = Field(ge=1)
    parts: int = Field(ge=1)
    objects: tuple[RestoredObject, ...]
    restored_at: UtcDatetime


ALL_EVENTS: tuple[type[EventData], ...] = (
    DocumentIngestedV1,
    DocumentIngested,
    DocumentRejected,
    InvoiceVerified,
    RecordArchived,
    LegalHoldPlaced,
    LegalHoldReleased,
    RecordReviewed,
    RecordsHandedOver,
    GapWaived,
    AssetDisposalRecorded,
    CorrectionLinked,
    CustodyExtended,
    IntegrityAlertRaised,
    ApprovalRequested,
    OaDecisionMadeV1,
    OaDecisionMade,
    ApprovalDecidedV1,
    ApprovalDecided,
    AccessGranted,
    AccessRevokedV1,
    AccessRevoked,
    RoleAssigned,
    RoleRevoked,
    CheckpointPublished,
    RecordsAccessed,
    TrailExported,
    DeadLettersRedriven,
    OaApprovalCompleted,
    ApprovalRecordLinked,
    BackupTaken,
    RecordsRestored,
)

# Typed envelopes: what a subscriber receives.
DocumentIngestedV1Event = Envelope[DocumentIngestedV1]
DocumentIngestedEvent = Envelope[DocumentIngested]
DocumentRejectedEvent = Envelope[DocumentRejected]
InvoiceVerifiedEvent = Envelope[InvoiceVerified]
RecordArchivedEvent = Envelope[RecordArchived]
LegalHoldPlacedEvent = Envelope[LegalHoldPlaced]
LegalHoldReleasedEvent = Envelope[LegalHoldReleased]
IntegrityAlertRaisedEvent = Envelope[IntegrityAlertRaised]
RecordsHandedOverEvent = Envelope[RecordsHandedOver]
CustodyExtendedEvent = Envelope[CustodyExtended]
GapWaivedEvent = Envelope[GapWaived]
AssetDisposalRecordedEvent = Envelope[AssetDisposalRecorded]
CorrectionLinkedEvent = Envelope[CorrectionLinked]
RecordReviewedEvent = Envelope[RecordReviewed]
ApprovalRequestedEvent = Envelope[ApprovalRequested]
OaDecisionMadeV1Event = Envelope[OaDecisionMadeV1]
OaDecisionMadeEvent = Envelope[OaDecisionMade]
ApprovalDecidedV1Event = Envelope[ApprovalDecidedV1]
ApprovalDecidedEvent = Envelope[ApprovalDecided]
AccessGrantedEvent = Envelope[AccessGranted]
AccessRevokedV1Event = Envelope[AccessRevokedV1]
AccessRevokedEvent = Envelope[AccessRevoked]
RoleAssignedEvent = Envelope[RoleAssigned]
RoleRevokedEvent = Envelope[RoleRevoked]
OaApprovalCompletedEvent = Envelope[OaApprovalCompleted]
ApprovalRecordLinkedEvent = Envelope[ApprovalRecordLinked]
