"""The four-property check (四性检测): one registry of every check item the platform knows.

DA/T 70-2018 (文书类电子档案检测一般要求) has a table of numbered items for each stage — archiving
(归档), handover and receipt (移交与接收), long-term preservation (长期保存) — under the four
properties. Each stage's report here lists every item of its stage's table with an outcome or the
reason it has none: the standard's items by their numbers, the platform's own checks (business
controls such as the duplicate booking of an invoice) by an ``AAP-`` code naming the item they
support. Items about carriers (discs, tapes) cannot apply to an online transfer.

The standard's own text could not be read here (see ``StandardItem.confirmed_by``): the numbers
and names are those public implementations of the standard quote where one was found, and are
marked unconfirmed otherwise; the three stages are taken to number their items alike.

Every service refers to these rows (``CHECK_1_8``…), never to a bare code; ``conclude`` says
what a report as a whole amounts to. ``docs/four-property-check.md`` is generated from this module.
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
    """The stages at which DA/T 70 checks an electronic record, each with its table."""

    ARCHIVING = "archiving"  # 归档: intake and accession
    HANDOVER = "handover"  # 移交与接收: before the archive department takes a year over
    PRESERVATION = "preservation"  # 长期保存: what the archive keeps, re-checked on a schedule


# Where a number and name were seen quoted (the standard's own text was not reachable here).
QUOTED_IN_ORDER = (
    "the names 1-2 to 1-8 are quoted in this order by public implementations of DA/T 70"
)
QUOTED_WITH_NUMBER = "quoted with this number and name by public implementations of DA/T 70"


@dataclass(frozen=True)
class StandardItem:
    """An item of DA/T 70-2018, as the standard numbers and names it."""

    code: str
    name: str
    confirmed_by: str | None = None  # None: number and name not confirmed against the text

    def __str__(self) -> str:
        unconfirmed = "" if self.confirmed_by else "（编号与名称未经原文核对）"
        return f"DA/T 70-2018 {self.code} {self.name}{unconfirmed}"


# An item whose number the sequence implies but whose name no available text gave.
UNIDENTIFIED = "（名称未能查得）"

# The items of DA/T 70-2018, numbered alike in each stage's table.
DAT70 = {
    item.code: item
    for item in (
        StandardItem("1-1", "固化信息有效性检测", QUOTED_WITH_NUMBER),
        StandardItem("1-2", "元数据项数据长度检测", QUOTED_IN_ORDER),
        StandardItem("1-3", "元数据项数据类型、格式检测", QUOTED_IN_ORDER),
        StandardItem("1-4", "设定值域的元数据项值域符合度检测", QUOTED_IN_ORDER),
        StandardItem("1-5", "元数据项数据值合理性检测", QUOTED_IN_ORDER),
        StandardItem("1-6", "元数据项数据包含特殊字符检测", QUOTED_WITH_NUMBER),
        StandardItem("1-7", "档号规范性检测", QUOTED_IN_ORDER),
        StandardItem("1-8", "元数据项数据重复性检测", QUOTED_WITH_NUMBER),
        StandardItem("1-9", UNIDENTIFIED),
        StandardItem("1-10", "内容数据的电子属性一致性检测"),
        StandardItem("1-11", "元数据与内容关联检测"),
        StandardItem("1-12", UNIDENTIFIED),
        StandardItem("1-13", UNIDENTIFIED),
        StandardItem("1-14", "归档信息包一致性检测"),
        StandardItem("2-1", "总件数相符性检测"),
        StandardItem("2-2", "总字节数相符性检测"),
        StandardItem("2-3", "元数据项完整性检测"),
        StandardItem("2-4", "元数据必填著录项目检测"),
        StandardItem("2-5", "过程信息完整性检测"),
        StandardItem("2-6", "连续性元数据项检测", QUOTED_WITH_NUMBER),
        StandardItem("2-7", "内容数据完整性检测"),
        StandardItem("2-8", "附件数据完整性检测"),
        StandardItem("2-9", UNIDENTIFIED),
        StandardItem("2-10", "归档信息包元数据完整性检测"),
        StandardItem("3-1", "信息包中元数据的可读性检测"),
        StandardItem("3-2", "目标数据库中的元数据可访问性检测"),
        StandardItem("3-3", "内容数据格式检测"),
        StandardItem("3-4", "内容数据的可读性检测"),
        StandardItem("3-5", "软硬件环境合规性检测"),
        StandardItem("3-6", UNIDENTIFIED),
        StandardItem("3-7", UNIDENTIFIED),
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
    """One row of the registry: a check, in the tables of the stages it belongs to."""

    code: str  # the standard's number where it implements that item, else AAP-…
    name: str  # 中文名 English name
    property: Property
    stages: frozenset[Stage]  # the stages whose table lists it
    required: bool  # the conclusion is 通过 only when every required item passed
    implements: StandardItem | None = None
    supports: StandardItem | None = None  # for the platform's own checks
    what: str = ""  # what is checked, for the documentation
    not_applicable: str | None = None  # why it never applies here (a carrier check, say)
    as_kept: str | None = None  # why it does not apply to what the archive keeps, if it does not

    def __reduce__(self) -> tuple[object, tuple[str, Stage]]:
        """Unpickled (from a worker process, say) as the registry's own row, not a copy: code
        compares rows by identity."""
        return _registered, (self.code, min(self.stages))

    def unidentified(self) -> bool:
        """An item the standard's numbering implies whose name no available text gave."""
        return self.implements is not None and self.implements.name == UNIDENTIFIED

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

    def unperformed(self, stage: Stage) -> CheckResult | None:
        """Its line where it is performed nowhere at ``stage``, saying why; None if it is."""
        if self.not_applicable:
            return self.result(CheckOutcome.NOT_APPLICABLE, self.not_applicable)
        if self.unidentified():
            return self.result(CheckOutcome.NOT_PERFORMED, NOT_IDENTIFIED)
        if stage is not Stage.ARCHIVING and self.as_kept:
            return self.result(CheckOutcome.NOT_APPLICABLE, self.as_kept)
        return None


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
    as_kept: str | None = None,
) -> CheckItem:
    own = code.startswith("AAP-")
    return CheckItem(
        code=code,
        name=name or DAT70[code].name,
        property=prop,
        stages=frozenset(stages),
        required=required,
        implements=None if own else DAT70[code],
        supports=DAT70[supports] if supports else None,
        what=what,
        not_applicable=not_applicable,
        as_kept=as_kept,
    )


A, I, U, S = Property.AUTHENTICITY, Property.INTEGRITY, Property.USABILITY, Property.SECURITY  # noqa: E741
ALL = tuple(Stage)  # the standard's items: in every stage's table
ARCHIVING = (Stage.ARCHIVING,)  # the platform's checks of an upload
NO_CARRIER = "online transfer: no carrier (disc, tape) is involved"
NOT_IDENTIFIED = (
    "the standard numbers an item here whose name no text available to the platform gives: "
    "neither performed nor claimed"
)
# Why an item of the metadata's values is not performed again on what the archive keeps.
LOCKED = (
    "checked at archiving (the report is kept with the record); the metadata it checked is "
    "locked since, and AAP-PACKAGE-KEPT compares the package's metadata with it whole"
)
UPLOAD_ONLY = "a property of an upload, checked at archiving; nothing kept can change it"

# --- authenticity (真实性) --------------------------------------------------------------------

CHECK_1_1 = _item(
    "1-1",
    "固化信息有效性 fixity information valid",
    A,
    ALL,
    required=True,
    what="the fixity information of each file is valid: the digests (SHA-256, SM3) recorded at "
    "intake, and the signatures, seals and timestamps a file carries. At archiving the digests "
    "are recorded, each PDF signature verified (pyHanko; an SM2 one's CMS by BouncyCastle), "
    "each XML signature (XMLDSig, signxml; one over part of the file is not the file's) "
    "and each OFD seal or signature (GB/T 38540; ofdrw and BouncyCastle: the protected files' "
    "digests, the signature value, the seal's maker, its listed signers and validity): intact "
    "and unaltered since signing passes, naming signer, issuer and seal; altered, forged or "
    "used outside its validity fails and refuses the upload; a signature that cannot be "
    "verified here (a 数电票 XML's) is not performed, saying why. As kept, the digests are "
    "re-computed and must equal those recorded",
)
CHECK_SIGNER_TRUSTED = _item(
    "AAP-SIGNER-TRUSTED",
    "签名证书可信 the signer's certificate chains to a trust anchor",
    A,
    ARCHIVING,
    required=True,
    supports="1-1",
    what="each verified signature's certificate chains to one of the trust anchors the "
    "customer configured (AAP_INGEST_TRUST_ANCHORS, a PEM bundle); one that does not is held "
    "for review naming signer and issuer; without anchors, not performed",
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
CHECK_INVOICE_SOURCE = _item(
    "AAP-INVOICE-SOURCE",
    "发票数据来源 an invoice or fiscal e-bill read from its signed original",
    A,
    ARCHIVING,
    required=True,
    supports="1-1",
    what="an e-invoice's fields come from its signed original (the 数电票 XML); one known only "
    "from a PDF or OFD printout's text (which anyone can edit) is used for the duplicate check "
    "and held for review until 查验 or a signature confirms it (the file's own, verified, by a "
    "signer who chains to a trust anchor); a fiscal e-bill (财政电子票据), read from its "
    "printout's text, likewise until a signature confirms it; a printout showing an invoice "
    "number whose fields cannot be read is named, never passed as a plain attachment",
)
CHECK_INVOICE_VERIFIED = _item(
    "AAP-INVOICE-VERIFIED",
    "发票查验 invoice verified on the tax platform",
    A,
    ARCHIVING,
    required=True,
    supports="1-1",
    what="财会〔2020〕6号 三(一): each e-invoice received is 查验'd on the tax platform through "
    "the provider configured (AAP_INGEST_VERIFY_URL). 正常 passes (and confirms an invoice known "
    "from a printout's text); 作废, 红冲, 查无此票, 不一致 or a state the archive does not know "
    "holds the voucher for review naming it; the platform not answering is not performed, the "
    "gap recorded, and the invoice asked again until it answers (GET /v1/invoice-verifications)",
)
CHECK_1_2 = _item(
    "1-2",
    "元数据项数据长度 metadata lengths",
    A,
    ALL,
    required=True,
    what="each field of the voucher or description within its length",
    as_kept=LOCKED,
)
CHECK_1_3 = _item(
    "1-3",
    "元数据项数据类型、格式 metadata types and formats",
    A,
    ALL,
    required=True,
    what="each field of its type and format (dates, numbers, account codes)",
    as_kept=LOCKED,
)
CHECK_1_4 = _item(
    "1-4",
    "设定值域 value domains",
    A,
    ALL,
    required=True,
    what="enumerations and ranges (category, fiscal year, period, attachment count)",
    as_kept=LOCKED,
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
    "kind's rules: the same year (更正: an earlier one), red or blue ink, a 注销 the same "
    "content in red; checked by the archive at accession",
)
CHECK_1_5 = _item(
    "1-5",
    "数据值合理性 value reasonableness",
    A,
    ALL,
    required=True,
    what="debits = credits; the voucher date in its fiscal year; an e-invoice's tax = amount × "
    "rate (±0.01) and its lines add up",
    as_kept=LOCKED,
)
CHECK_INVOICE_MATCH = _item(
    "AAP-INVOICE-MATCH",
    "发票与凭证一致 e-invoice agrees with its voucher",
    A,
    ARCHIVING,
    required=True,
    supports="1-5",
    what="an e-invoice is received or issued by the company booking it (names compared after "
    "NFKC, spaces removed), issued on or before the voucher date, and its PDF or OFD printout "
    "shows its total",
)
CHECK_RECEIPT_MATCH = _item(
    "AAP-RECEIPT-MATCH",
    "银行回单与凭证相符 bank e-receipt agrees with its voucher",
    A,
    ARCHIVING,
    required=True,
    supports="1-5",
    what="a bank e-receipt (银行电子回单, read from its text: 回单编号 or 交易流水号, 交易日期, "
    "金额, 付款人账号, 收款人账号) matches a 银行存款 (1002) line of the voucher by amount, "
    "debited where the company received it and credited where it paid, and is dated on or "
    "before the voucher; one whose fields cannot be read is named, never a plain attachment",
)
CHECK_1_6 = _item(
    "1-6",
    "包含特殊字符 special characters",
    A,
    ALL,
    required=True,
    what="no control characters in the texts of the voucher or description",
    as_kept=LOCKED,
)
CHECK_1_7 = _item(
    "1-7",
    "档号规范性 archive code format",
    A,
    ALL,
    required=True,
    what="the 档号 follows the configured rule for the record's fonds, year, retention and "
    "category (records archived as versions of others keep their -V2); given at accession, "
    "re-checked as kept",
)
CHECK_1_8 = _item(
    "1-8",
    "元数据项数据重复性 duplicate metadata",
    A,
    ALL,
    required=True,
    what="no other document holds this one's key with other content: a voucher's fonds, year, "
    "period, 凭证字 and number; a material's kind, months, account and reference",
    as_kept="the archive takes one record per key at accession and never a second (a key "
    "once claimed stays claimed)",
)
CHECK_DUPLICATE_BOOKING = _item(
    "AAP-DUPLICATE-BOOKING",
    "重复入账 an invoice booked once",
    A,
    ARCHIVING,
    required=True,
    supports="1-8",
    what="no invoice of the upload is booked before by the same party (重复入账: the buyer for "
    "one received, the seller for one issued) or attached twice; its XML, OFD and PDF are one "
    "booking, whichever came first. Likewise a bank e-receipt per side (its number and the "
    "company's account) and a fiscal e-bill (财政电子票据: 票据代码 + 票据号码) per payer",
)
CHECK_ATTACHMENT_KINDS = _item(
    "AAP-ATTACHMENT-KINDS",
    "附件识别 what each attachment was read as",
    A,
    ARCHIVING,
    required=False,
    supports="1-8",
    what="each attachment named with what intake read it as — an e-invoice (XML, OFD, PDF; "
    "which invoice), a fiscal e-bill, a bank e-receipt — or as a plain attachment in which no "
    "e-voucher was recognised, kept as it is and outside the duplicate check, so that a "
    "format intake cannot read is never taken silently for one it checked",
)
CHECK_1_9 = _item("1-9", "", A, ALL, required=False, what="")
CHECK_1_10 = _item(
    "1-10",
    "内容数据的电子属性一致 electronic attributes match",
    A,
    ALL,
    required=True,
    what="each file's content is of the type its name and declared type say (by its first "
    "bytes); as kept, also of the size and format recorded",
)
CHECK_1_11 = _item(
    "1-11",
    "元数据与内容关联 metadata linked to content",
    A,
    ALL,
    required=True,
    what="each original is found where the record's metadata says it is: copied from there at "
    "accession, read from there as kept",
)
CHECK_1_12 = _item("1-12", "", A, ALL, required=False, what="")
CHECK_1_13 = _item("1-13", "", A, ALL, required=False, what="")
CHECK_1_14 = _item(
    "1-14",
    "归档信息包一致 package as sent",
    A,
    ALL,
    required=True,
    what="every file of an archive package (an upload of many vouchers) has the SHA-256 its "
    "manifest gives",
    as_kept=UPLOAD_ONLY + "; AAP-PACKAGE-KEPT checks the record's own package",
)
CHECK_PACKAGE_KEPT = _item(
    "AAP-PACKAGE-KEPT",
    "信息包描述一致 package description matches",
    A,
    (Stage.HANDOVER, Stage.PRESERVATION),
    required=True,
    supports="1-14",
    what="the package's metadata.xml and check-report.json are present and equal what the "
    "record's metadata gives",
)

# --- integrity (完整性) -----------------------------------------------------------------------

CHECK_2_1 = _item(
    "2-1",
    "总件数相符 file count",
    I,
    ALL,
    required=True,
    what="at archiving, an archive package holds as many files as its manifest lists; as kept, "
    "the record's package holds every original its metadata lists",
)
CHECK_2_2 = _item(
    "2-2",
    "总字节数相符 byte count",
    I,
    ALL,
    required=True,
    what="at archiving, an archive package holds as many bytes as its manifest declares; as "
    "kept, the originals add up to the bytes the metadata records",
)
CHECK_2_3 = _item(
    "2-3",
    "元数据项完整性 metadata items complete",
    I,
    ALL,
    required=True,
    what="the record's metadata.xml has every element of the metadata scheme (DA/T 46/94) the "
    "record has, each of its type: it validates against the schema kept with the platform "
    "(format 2); at accession, and as kept",
)
CHECK_2_4 = _item(
    "2-4",
    "元数据必填项 required fields",
    I,
    ALL,
    required=True,
    what="every required field of the voucher or description (and journal column) present",
    as_kept=LOCKED,
)
CHECK_2_5 = _item(
    "2-5",
    "过程信息 process information",
    I,
    ALL,
    required=True,
    what="preparer, reviewer and approver named; preparer ≠ reviewer (制单与审核分离)",
    as_kept=LOCKED,
)
CHECK_2_6 = _item(
    "2-6",
    "连续性元数据项 continuous numbering",
    I,
    ALL,
    required=True,
    what="voucher numbers continuous within a period, per 凭证字: a property of the period, not "
    "of one upload. Before a handover, and as kept once the year is handed over, a voucher's "
    "凭证字 in its period has no open gap (GET /v1/completeness names each; a gap is closed by "
    "the missing voucher, or waived by an archivist with a reason). A gap is the year's: the "
    "re-check reports it, raises no integrity alert, and a handover is refused while it is open",
)
CHECK_2_7 = _item(
    "2-7",
    "内容数据完整 content present",
    I,
    ALL,
    required=True,
    what="no file is empty; as kept, every original can be read",
)
CHECK_2_8 = _item(
    "2-8",
    "附件数据完整 attachments",
    I,
    ALL,
    required=True,
    what="as many attachments as declared (附件张数); the PDF or OFD printout of an e-invoice "
    "XML in the same upload is not counted",
    as_kept=LOCKED + "; 2-1 re-counts the originals",
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
CHECK_2_9 = _item("2-9", "", I, ALL, required=False, what="")
CHECK_2_10 = _item(
    "2-10",
    "归档信息包元数据完整 package metadata complete",
    I,
    ALL,
    required=True,
    what="an archive package has a valid manifest.json; every file it references is listed "
    "and present",
    as_kept=UPLOAD_ONLY + "; 2-3 checks the record's own metadata",
)

# --- usability (可用性) -----------------------------------------------------------------------

CHECK_3_1 = _item(
    "3-1",
    "元数据可读 metadata readable",
    U,
    ALL,
    required=True,
    what="at archiving, the voucher export or description (JSON or XML; UTF-8 or GB18030) and "
    "a journal can be read; as kept, the package's metadata.xml parses",
)
CHECK_3_2 = _item(
    "3-2",
    "目标数据库元数据可访问 metadata in the archive's database",
    U,
    ALL,
    required=True,
    what="the record reads back from the archive's database: at accession before it is "
    "announced, and each re-check reads it from there",
)
CHECK_3_3 = _item(
    "3-3",
    "内容数据格式 accepted formats",
    U,
    ALL,
    required=True,
    what="files in an accepted format: PDF, OFD or XML (and XLSX for a material)",
    as_kept="checked at archiving; as kept, 1-10 compares each original's format with the one "
    "recorded",
)
CHECK_3_4 = _item(
    "3-4",
    "内容数据可读 content readable",
    U,
    ALL,
    required=True,
    what="PDFs open and have pages; OFD packages open within limits and their OFD.xml parses; "
    "XML parses (safely: DTDs and entities refused), an e-invoice's fields read; workbooks open. "
    "At archiving, and again as kept",
)
CHECK_3_5 = _item(
    "3-5",
    "软硬件环境 software and hardware environment",
    U,
    ALL,
    required=True,
    what="the environment each file's electronic attributes record (its format and version, "
    "read from its bytes, in metadata.xml's 格式信息) is one the archive preserves: PDF 1.0–2.0, "
    "OFD, XML 1.0/1.1, XLSX, JSON",
)
CHECK_3_6 = _item("3-6", "", U, ALL, required=False, what="")
CHECK_3_7 = _item("3-7", "", U, ALL, required=False, what="")
CHECK_3_8 = _item(
    "3-8",
    "无加密与非公开压缩 no encryption or private compression",
    U,
    ALL,
    required=True,
    what="no encrypted PDF; no encrypted or privately compressed OFD entry",
    as_kept="checked at archiving; the originals are locked since, and 1-1 re-computes their "
    "digests",
)

# --- security (安全性) ------------------------------------------------------------------------

CHECK_4_1 = _item(
    "4-1",
    "杀毒软件 virus scanner present",
    S,
    ALL,
    required=True,
    what="a virus scanner is configured (AAP_INGEST_CLAMD_ADDRESS at intake, "
    "AAP_ARCHIVE_CLAMD_ADDRESS for the re-check) and answered",
)
CHECK_4_2 = _item(
    "4-2",
    "病毒检测 virus scan",
    S,
    ALL,
    required=True,
    what="every file, each on its own, scanned by ClamAV (with the signatures of the day: again "
    "as kept); not performed without a scanner",
)
CHECK_4_3 = _item(
    "4-3", "载体多余文件 extra files on a carrier", S, ALL, required=False,
    what="", not_applicable=NO_CARRIER,
)  # fmt: skip
CHECK_NO_EXTRA = _item(
    "AAP-NO-EXTRA",
    "无清单外文件 no unlisted files",
    S,
    ARCHIVING,
    required=True,
    supports="4-3",
    what="an archive package holds no file that its manifest does not list",
)
CHECK_4_4 = _item(
    "4-4", "载体读取速度 carrier read speed", S, ALL, required=False,
    what="", not_applicable=NO_CARRIER,
)  # fmt: skip
CHECK_4_5 = _item(
    "4-5", "载体外观 carrier appearance", S, ALL, required=False,
    what="", not_applicable=NO_CARRIER,
)  # fmt: skip
CHECK_4_6 = _item(
    "4-6", "光盘合格性 disc conformity", S, ALL, required=False,
    what="", not_applicable=NO_CARRIER,
)  # fmt: skip
CHECK_4_7 = _item(
    "4-7",
    "归档过程安全 archiving process secure",
    S,
    ALL,
    required=True,
    what="at accession, each original is hashed again (SHA-256, SM3) where intake stored it "
    "before it is copied under lock: the bytes archived are those intake checked, announced by "
    "ingest over the authenticated broker. As kept, each original is still under its lock "
    "(COMPLIANCE retention, or a legal hold) in the object store",
)

REGISTRY: tuple[CheckItem, ...] = (
    CHECK_1_1,
    CHECK_SIGNER_TRUSTED,
    CHECK_SIGNED,
    CHECK_INVOICE_SOURCE,
    CHECK_INVOICE_VERIFIED,
    CHECK_1_2,
    CHECK_1_3,
    CHECK_1_4,
    CHECK_CORRECTION,
    CHECK_1_5,
    CHECK_INVOICE_MATCH,
    CHECK_RECEIPT_MATCH,
    CHECK_1_6,
    CHECK_1_7,
    CHECK_1_8,
    CHECK_DUPLICATE_BOOKING,
    CHECK_ATTACHMENT_KINDS,
    CHECK_1_9,
    CHECK_1_10,
    CHECK_1_11,
    CHECK_1_12,
    CHECK_1_13,
    CHECK_1_14,
    CHECK_PACKAGE_KEPT,
    CHECK_2_1,
    CHECK_2_2,
    CHECK_2_3,
    CHECK_2_4,
    CHECK_2_5,
    CHECK_2_6,
    CHECK_2_7,
    CHECK_2_8,
    CHECK_APPROVAL_RECORD,
    CHECK_2_9,
    CHECK_2_10,
    CHECK_3_1,
    CHECK_3_2,
    CHECK_3_3,
    CHECK_3_4,
    CHECK_3_5,
    CHECK_3_6,
    CHECK_3_7,
    CHECK_3_8,
    CHECK_4_1,
    CHECK_4_2,
    CHECK_4_3,
    CHECK_NO_EXTRA,
    CHECK_4_4,
    CHECK_4_5,
    CHECK_4_6,
    CHECK_4_7,
)
# The standard's tables: every item of DA/T 70 has its row, in every stage.
assert {i.implements.code for i in REGISTRY if i.implements} == set(DAT70)


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
