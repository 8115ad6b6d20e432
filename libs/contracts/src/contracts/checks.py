"""The four-property check (四性检测): one registry of every check item the platform knows.

DA/T 70-2018 (文书类电子档案检测一般要求) lists, per stage — archiving (归档), handover and
receipt (移交与接收), long-term preservation (长期保存) — numbered items under four properties.
A check here carries the standard's number only where it implements that item; a check of the
platform's own carries an ``AAP-`` code and names the standard item it supports. Items of the
standard that cannot apply to an online transfer (those about carriers: discs, tapes) are listed
as not applicable, with the reason. Items of the standard not listed here are neither performed
nor claimed.

Every service refers to these rows (``CHECK_1_8``…), never to a bare code; the report of an
upload or a re-check has one result per row of its stage, and ``conclude`` says what the
report as a whole amounts to. ``docs/four-property-check.md`` is generated from this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from contracts.records import CheckConclusion, CheckOutcome, CheckResult


class Property(StrEnum):
    """The four properties (四性)."""

    AUTHENTICITY = "authenticity"  # 真实性
    INTEGRITY = "integrity"  # 完整性
    USABILITY = "usability"  # 可用性
    SECURITY = "security"  # 安全性


class Stage(StrEnum):
    """The stages at which DA/T 70 checks an electronic record."""

    ARCHIVING = "archiving"  # 归档: intake and accession
    HANDOVER = "handover"  # 移交与接收: before the archive department takes a year over
    PRESERVATION = "preservation"  # 长期保存: what the archive keeps, re-checked on a schedule


@dataclass(frozen=True)
class StandardItem:
    """An item of DA/T 70-2018, as the standard numbers and names it."""

    code: str
    name: str

    def __str__(self) -> str:
        return f"DA/T 70-2018 {self.code} {self.name}"


# The items of DA/T 70-2018 this registry refers to.
DAT70 = {
    item.code: item
    for item in (
        StandardItem("1-1", "固化信息有效性检测"),
        StandardItem("1-2", "元数据项数据长度检测"),
        StandardItem("1-3", "元数据项数据类型、格式检测"),
        StandardItem("1-4", "设定值域的元数据项值域符合度检测"),
        StandardItem("1-5", "元数据项数据值合理性检测"),
        StandardItem("1-6", "元数据项数据包含特殊字符检测"),
        StandardItem("1-7", "档号规范性检测"),
        StandardItem("1-8", "元数据项数据重复性检测"),
        StandardItem("1-10", "内容数据的电子属性一致性检测"),
        StandardItem("1-11", "元数据与内容关联检测"),
        StandardItem("1-14", "归档信息包一致性检测"),
        StandardItem("2-1", "总件数相符性检测"),
        StandardItem("2-2", "总字节数相符性检测"),
        StandardItem("2-3", "元数据项完整性检测"),
        StandardItem("2-4", "元数据必填著录项目检测"),
        StandardItem("2-5", "过程信息完整性检测"),
        StandardItem("2-6", "连续性元数据项检测"),
        StandardItem("2-7", "内容数据完整性检测"),
        StandardItem("2-8", "附件数据完整性检测"),
        StandardItem("2-10", "归档信息包元数据完整性检测"),
        StandardItem("3-1", "信息包中元数据的可读性检测"),
        StandardItem("3-2", "目标数据库中的元数据可访问性检测"),
        StandardItem("3-3", "内容数据格式检测"),
        StandardItem("3-4", "内容数据的可读性检测"),
        StandardItem("3-5", "软硬件环境合规性检测"),
        StandardItem("3-8", "信息包中包含的内容数据格式合规性检测"),
        StandardItem("4-1", "系统环境中是否安装杀毒软件检测"),
        StandardItem("4-2", "病毒感染检测"),
        StandardItem("4-3", "载体中多余文件检测"),
        StandardItem("4-4", "载体读取速度检测"),
        StandardItem("4-5", "载体外观检测"),
        StandardItem("4-6", "光盘合格性检测"),
        StandardItem("4-7", "归档过程安全性检测"),
    )
}


@dataclass(frozen=True)
class CheckItem:
    """One row of the registry: a check, at the stages it belongs to."""

    code: str  # the standard's number where it implements that item, else AAP-…
    name: str  # 中文名 English name
    property: Property
    stages: frozenset[Stage]
    required: bool  # the conclusion is 通过 only when every required item passed
    implements: StandardItem | None = None
    supports: StandardItem | None = None  # for the platform's own checks
    what: str = ""  # what is checked, for the documentation
    not_applicable: str | None = None  # why it never applies here (a carrier check, say)

    def __reduce__(self) -> tuple[object, tuple[str, Stage]]:
        """Unpickled (from a worker process, say) as the registry's own row, not a copy: code
        compares rows by identity."""
        return _registered, (self.code, min(self.stages))

    def result(self, outcome: CheckOutcome, detail: str = "", **more: object) -> CheckResult:
        """This item's line in a report."""
        return CheckResult(
            code=self.code,
            name=self.name,
            property=self.property.value,
            outcome=outcome,
            detail=detail,
            required=self.required,
            standard_item=str(self.implements or self.supports or "") or None,
            **more,
        )


def _item(
    code: str,
    name: str,
    prop: Property,
    stages: Iterable[Stage],
    *,
    required: bool,
    what: str,
    supports: str | None = None,
    not_applicable: str | None = None,
) -> CheckItem:
    own = code.startswith("AAP-")
    return CheckItem(
        code=code,
        name=name,
        property=prop,
        stages=frozenset(stages),
        required=required,
        implements=None if own else DAT70[code],
        supports=DAT70[supports] if supports else None,
        what=what,
        not_applicable=not_applicable,
    )


A, I, U, S = Property.AUTHENTICITY, Property.INTEGRITY, Property.USABILITY, Property.SECURITY  # noqa: E741
ARCHIVING = (Stage.ARCHIVING,)
KEPT = (Stage.HANDOVER, Stage.PRESERVATION)  # re-checks of what the archive keeps
NO_CARRIER = "online transfer: no carrier (disc, tape) is involved"

# --- archiving (归档): intake of an upload, and accession into the archive -----------------------

CHECK_1_1 = _item(
    "1-1",
    "固化信息有效性 fixity information valid",
    A,
    ARCHIVING,
    required=True,
    what="signatures, seals and timestamps a file carries verify; not performed where one is "
    "present (an e-invoice's XML signature, a signed PDF or OFD) and cannot be verified here, "
    "not applicable where none is",
)
CHECK_SIGNED = _item(
    "AAP-SIGNED",
    "数电票签名存在 e-invoice XML carries a signature",
    A,
    ARCHIVING,
    required=True,
    supports="1-1",
    what="each 数电票 XML carries a Signature element (found, not verified)",
)
CHECK_1_2 = _item(
    "1-2",
    "元数据项数据长度 metadata lengths",
    A,
    ARCHIVING,
    required=True,
    what="each voucher field within its length",
)
CHECK_1_3 = _item(
    "1-3",
    "元数据项数据类型、格式 metadata types and formats",
    A,
    ARCHIVING,
    required=True,
    what="each voucher field of its type and format (dates, numbers, account codes)",
)
CHECK_1_4 = _item(
    "1-4",
    "设定值域 value domains",
    A,
    ARCHIVING,
    required=True,
    what="enumerations and ranges (category, fiscal year, period, attachment count)",
)
CHECK_1_5 = _item(
    "1-5",
    "数据值合理性 value reasonableness",
    A,
    ARCHIVING,
    required=True,
    what="debits = credits; the voucher date in its fiscal year; an e-invoice's tax = amount × "
    "rate (±0.01) and its lines add up",
)
CHECK_1_6 = _item(
    "1-6",
    "包含特殊字符 special characters",
    A,
    ARCHIVING,
    required=True,
    what="no control characters in the voucher's texts",
)
CHECK_1_7 = _item(
    "1-7",
    "档号规范性 archive code format",
    A,
    (Stage.ARCHIVING, *KEPT),
    required=True,
    what="the 档号 follows the configured rule for the record's fonds, year, retention and "
    "category (records archived as versions of others keep their -V2); given at accession, "
    "re-checked as kept",
)
CHECK_1_8 = _item(
    "1-8",
    "重复数据 duplicates",
    A,
    ARCHIVING,
    required=True,
    what="no invoice booked before (重复入账) or attached twice",
)
CHECK_1_10 = _item(
    "1-10",
    "内容数据的电子属性一致 electronic attributes match",
    A,
    (Stage.ARCHIVING, *KEPT),
    required=True,
    what="each file's content is of the type its name and declared type say (by its first "
    "bytes); as kept, also of the size recorded",
)
CHECK_INVOICE_MATCH = _item(
    "AAP-INVOICE-MATCH",
    "发票与凭证一致 e-invoice agrees with its voucher",
    A,
    ARCHIVING,
    required=True,
    supports="1-5",
    what="an e-invoice is made out to the company booking it (names compared after NFKC, "
    "spaces removed), issued on or before the voucher date, and its PDF or OFD printout shows "
    "its total",
)
CHECK_CORRECTION = _item(
    "AAP-CORRECTION",
    "更正对象存在 a correction names a kept record",
    A,
    ARCHIVING,
    required=True,
    supports="1-4",
    what="a voucher that corrects another (注销, 订正, 调整, 更正: 会计基础工作规范 "
    "第五十一条(五)) names one this fonds holds, by 档号 or as the ERP knows it, and keeps its "
    "kind's rules: the "
    "same year (更正: an earlier one), red or blue ink, a 注销 the same content in red; "
    "checked by the archive at accession",
)
CHECK_1_11 = _item(
    "1-11",
    "元数据与内容关联 metadata linked to content",
    A,
    (Stage.ARCHIVING, *KEPT),
    required=True,
    what="each original is found where the record's metadata says it is: copied from there at "
    "accession, read from there as kept",
)
CHECK_PACKAGE_MANIFEST = _item(
    "AAP-PACKAGE-MANIFEST",
    "信息包清单 package manifest",
    I,
    ARCHIVING,
    required=True,
    supports="2-10",
    what="an archive package has a valid manifest.json; every file it references is listed "
    "and present",
)
CHECK_1_14 = _item(
    "1-14",
    "归档信息包一致 package as sent",
    A,
    ARCHIVING,
    required=True,
    what="every file of an archive package has the SHA-256 its manifest gives",
)
CHECK_2_1 = _item(
    "2-1",
    "总件数相符 file count",
    I,
    ARCHIVING,
    required=True,
    what="an archive package holds as many files as its manifest lists",
)
CHECK_2_2 = _item(
    "2-2",
    "总字节数相符 byte count",
    I,
    ARCHIVING,
    required=True,
    what="an archive package holds as many bytes as its manifest declares",
)
CHECK_NO_EXTRA = _item(
    "AAP-NO-EXTRA",
    "无清单外文件 no unlisted files",
    S,
    ARCHIVING,
    required=True,
    supports="4-3",
    what="an archive package holds no file that its manifest does not list",
)
CHECK_2_3 = _item(
    "2-3",
    "元数据项完整性 metadata items complete",
    I,
    ARCHIVING,
    required=False,
    what="every item of a metadata scheme (DA/T 46) present; the voucher format defines its "
    "own items, whose required ones 2-4 checks",
)
CHECK_2_4 = _item(
    "2-4",
    "元数据必填项 required fields",
    I,
    ARCHIVING,
    required=True,
    what="every required voucher field (and journal column) present",
)
CHECK_2_5 = _item(
    "2-5",
    "过程信息 process information",
    I,
    ARCHIVING,
    required=True,
    what="preparer, reviewer and approver named; preparer ≠ reviewer (制单与审核分离)",
)
CHECK_2_6 = _item(
    "2-6",
    "连续性元数据项 continuous numbering",
    I,
    ARCHIVING,
    required=False,
    what="voucher numbers continuous within a period: a property of the period, not of one "
    "upload; the archive reports it (`GET /v1/numbering`)",
)
CHECK_2_7 = _item(
    "2-7",
    "内容数据完整 content present",
    I,
    (Stage.ARCHIVING, *KEPT),
    required=True,
    what="no file is empty; as kept, every original can be read",
)
CHECK_2_8 = _item(
    "2-8",
    "附件数据完整 attachments",
    I,
    ARCHIVING,
    required=True,
    what="as many attachments as declared (附件张数); the PDF or OFD printout of an e-invoice "
    "XML in the same upload is not counted",
)
CHECK_APPROVAL_RECORD = _item(
    "AAP-APPROVAL-RECORD",
    "审批单已归档 the OA approval form is archived with its voucher",
    I,
    ARCHIVING,
    required=False,
    supports="2-8",
    what="a voucher the fonds expects an OA expense or payment approval for (by its 摘要) is "
    "linked to that approval's archived record within the configured wait; known after "
    "accession, so the archive lists what is still waiting (`GET /v1/vouchers/awaiting-approval`)",
)
CHECK_3_1 = _item(
    "3-1",
    "元数据可读 metadata readable",
    U,
    ARCHIVING,
    required=True,
    what="the voucher export (JSON or XML; UTF-8 or GB18030) and a journal can be read",
)
CHECK_3_2 = _item(
    "3-2",
    "目标数据库元数据可访问 metadata in the archive's database",
    U,
    ARCHIVING,
    required=True,
    what="the record, once written to the archive's database, reads back; at accession",
)
CHECK_3_3 = _item(
    "3-3",
    "内容数据格式 accepted formats",
    U,
    ARCHIVING,
    required=True,
    what="attachments in an accepted format: PDF, OFD or XML",
)
CHECK_3_4 = _item(
    "3-4",
    "内容数据可读 content readable",
    U,
    ARCHIVING,
    required=True,
    what="PDFs open and have pages; OFD packages open within limits and their OFD.xml parses; "
    "XML attachments parse (safely: DTDs and entities refused), an e-invoice's fields read",
)
CHECK_3_5 = _item(
    "3-5",
    "软硬件环境 software and hardware environment",
    U,
    ARCHIVING,
    required=False,
    what="the environment an electronic-attribute metadata item records; the voucher format "
    "records none",
)
CHECK_3_8 = _item(
    "3-8",
    "无加密与非公开压缩 no encryption or private compression",
    U,
    ARCHIVING,
    required=True,
    what="no encrypted PDF; no encrypted or privately compressed OFD entry",
)
CHECK_4_1 = _item(
    "4-1",
    "杀毒软件 virus scanner present",
    S,
    ARCHIVING,
    required=True,
    what="a virus scanner is configured (AAP_INGEST_CLAMD_ADDRESS) and answered",
)
CHECK_4_2 = _item(
    "4-2",
    "病毒检测 virus scan",
    S,
    ARCHIVING,
    required=True,
    what="every file, each on its own, scanned by ClamAV; not performed without a scanner",
)
CHECK_4_3 = _item(
    "4-3", "载体多余文件 extra files on a carrier", S, ARCHIVING, required=False,
    what="", not_applicable=NO_CARRIER,
)  # fmt: skip
CHECK_4_4 = _item(
    "4-4", "载体读取速度 carrier read speed", S, ARCHIVING, required=False,
    what="", not_applicable=NO_CARRIER,
)  # fmt: skip
CHECK_4_5 = _item(
    "4-5", "载体外观 carrier appearance", S, ARCHIVING, required=False,
    what="", not_applicable=NO_CARRIER,
)  # fmt: skip
CHECK_4_6 = _item(
    "4-6", "光盘合格性 disc conformity", S, ARCHIVING, required=False,
    what="", not_applicable=NO_CARRIER,
)  # fmt: skip
CHECK_4_7 = _item(
    "4-7",
    "归档过程安全 archiving process secure",
    S,
    ARCHIVING,
    required=False,
    what="technical and organisational measures over the whole archiving process: assessed "
    "for the installation, not per upload",
)

# --- what the archive keeps, re-checked before a handover and on a schedule ----------------------

CHECK_FIXITY_KEPT = _item(
    "1-1",
    "固化信息有效性 fixity (digests re-computed)",
    A,
    KEPT,
    required=True,
    what="SHA-256 and SM3 of every original equal those recorded at intake",
)
CHECK_PACKAGE_KEPT = _item(
    "AAP-PACKAGE-KEPT",
    "信息包描述一致 package description matches",
    A,
    KEPT,
    required=True,
    supports="1-14",
    what="the package's metadata.xml and check-report.json are present and equal what the "
    "record's metadata gives",
)

REGISTRY: tuple[CheckItem, ...] = (
    CHECK_1_1,
    CHECK_SIGNED,
    CHECK_1_2,
    CHECK_1_3,
    CHECK_1_4,
    CHECK_1_5,
    CHECK_1_6,
    CHECK_1_7,
    CHECK_1_8,
    CHECK_1_10,
    CHECK_INVOICE_MATCH,
    CHECK_CORRECTION,
    CHECK_1_11,
    CHECK_PACKAGE_MANIFEST,
    CHECK_1_14,
    CHECK_2_1,
    CHECK_2_2,
    CHECK_NO_EXTRA,
    CHECK_2_3,
    CHECK_2_4,
    CHECK_2_5,
    CHECK_2_6,
    CHECK_2_7,
    CHECK_2_8,
    CHECK_APPROVAL_RECORD,
    CHECK_3_1,
    CHECK_3_2,
    CHECK_3_3,
    CHECK_3_4,
    CHECK_3_5,
    CHECK_3_8,
    CHECK_4_1,
    CHECK_4_2,
    CHECK_4_3,
    CHECK_4_4,
    CHECK_4_5,
    CHECK_4_6,
    CHECK_4_7,
    CHECK_FIXITY_KEPT,
    CHECK_PACKAGE_KEPT,
)


def _standard_order(item: CheckItem) -> tuple[int, int, int]:
    """The standard's order; a check of the platform's own right after the item it supports."""
    standard = item.implements or item.supports
    assert standard is not None, f"{item.code} neither implements nor supports a standard item"
    prop, number = standard.code.split("-")
    return int(prop), int(number), 0 if item.implements else 1


def _registered(code: str, stage: Stage) -> CheckItem:
    return next(i for i in REGISTRY if i.code == code and stage in i.stages)


def at(stage: Stage) -> tuple[CheckItem, ...]:
    """The registry's rows for one stage, in the standard's order."""
    return tuple(sorted((i for i in REGISTRY if stage in i.stages), key=_standard_order))


def by_code(code: str, stage: Stage) -> CheckItem:
    return next(item for item in at(stage) if item.code == code)


def conclude(report: Sequence[CheckResult]) -> CheckConclusion:
    """通过 only when every required item passed; otherwise what failed and what was not done."""
    failed = tuple(r.code for r in report if r.outcome is CheckOutcome.FAILED)
    missing = tuple(
        r.code for r in report if r.outcome is CheckOutcome.NOT_PERFORMED and r.required
    )
    if failed:
        verdict = "failed"
    elif missing:
        verdict = "incomplete"
    else:
        verdict = "passed"
    parts = [f"未通过 {', '.join(failed)}"] if failed else []
    parts += [f"未执行 {', '.join(missing)}"] if missing else []
    return CheckConclusion(
        verdict=verdict,
        text="；".join(parts) if parts else "通过",
        failed=failed,
        not_performed=missing,
    )
