"""A record's ``metadata.xml``, package format 2: the elements of the electronic-record
metadata schemes, validated against ``metadata-2.xsd`` (kept beside this module).

Where each element comes from (the schema's annotations say the same, element by element):

- **DA/T 46-2009 文书类电子文件元数据方案**, the scheme DA/T 70-2018 cites for 2-3 and on
  which DA/T 94-2022 (电子会计档案管理规范) builds: 聚合层次, 来源 (全宗名称, 立档单位名称),
  电子文件号, 档号 and its parts (全宗号, 年度, 保管期限), 内容描述 (题名, 责任者, 日期, 密级),
  电子属性 (计算机文件名, 格式信息, 计算机文件大小), 存储位置, 电子签名 (签名规则, 签名时间,
  签名人, 签名结果, 签名算法标识), 信息系统描述, and the business entity's 业务行为 (行为,
  行为时间, 机构人员, 行为描述).
- **会计基础工作规范 第五十一条** for what a 记账凭证 carries: 凭证日期, 凭证号, 摘要, 会计科目,
  金额, 附件张数, 制单, 审核 and 审批 (会计主管); 第五十一条(五) for the correction it makes.
- **会计档案管理办法 第六条, 附表1** for the 门类 and 保管期限; **财会〔2020〕6号** for the
  e-invoices booked (发票号码, 销售方, 税号); **DA/T 70-2018** for the check's conclusion; the
  digests (SHA-256, SM3) are the fixity information DA/T 70 1-1 re-computes.

What AAP adds beyond those (会计期间, 门类, 保管期限截止日期, 数字摘要, 四性检测) is marked so
in the schema. A package is locked once written: a record archived in format 1 keeps it
(``package``).
"""

from __future__ import annotations

import calendar
import xml.etree.ElementTree as ET
from datetime import date
from functools import cache
from importlib.resources import files

import defusedxml.ElementTree as safe_xml
import xmlschema

from archive.domain.retention import RETENTION_RULES, kept_until
from contracts.events import RecordArchived
from contracts.records import (
    BankReceiptRef,
    BureauSignature,
    CheckOutcome,
    CheckResult,
    FiscalBillRef,
    InvoiceRef,
    StoredFile,
    VerifiedSignature,
)

NAMESPACE = "urn:aap:accounting-archive:2"
FORMAT = 2
# 密级 (DA/T 46): a company's books hold no state secret (国家秘密 is kept out of this system);
# they are for internal use, read only by whom the permission service allows.
CLASSIFICATION = "内部"
SYSTEM = "AAP 电子会计档案系统 (archive service)"


@cache
def schema() -> xmlschema.XMLSchema:
    """The schema every format-2 ``metadata.xml`` validates against."""
    source = files("archive.domain").joinpath("metadata-2.xsd").read_text(encoding="utf-8")
    return xmlschema.XMLSchema(source)


def problems(document: bytes) -> list[str]:
    """What keeps ``document`` from validating against the schema; [] when it does."""
    try:
        root = safe_xml.fromstring(document)
    except ET.ParseError as error:
        return [f"metadata.xml cannot be parsed: {error}"]
    return [f"{e.path or '/'}: {e.reason or e.message}" for e in schema().iter_errors(root)][:20]


class _Doc:
    """An element tree in the schema's namespace (declared as the default on its root, so
    that every element reads unprefixed), built top to bottom."""

    def __init__(self) -> None:
        self.root = ET.Element("电子会计档案", {"xmlns": NAMESPACE, "格式版本": str(FORMAT)})

    def add(
        self, parent: ET.Element | None, name: str, text: object = None, **attrs: str
    ) -> ET.Element:
        child = ET.SubElement(self.root if parent is None else parent, name, attrs)
        if text is not None:
            child.text = str(text)
        return child


def metadata_xml(r: RecordArchived) -> bytes:
    """The record's metadata as format 2 writes it."""
    d = _Doc()
    rule = RETENTION_RULES[r.category]
    company = r.company_name or r.fonds_code
    d.add(None, "聚合层次", "件")
    source = d.add(None, "来源")
    d.add(source, "全宗名称", company)
    d.add(source, "立档单位名称", company)
    d.add(None, "电子文件号", r.record_id)
    d.add(None, "档号", r.archive_code)
    d.add(None, "全宗号", r.fonds_code)
    d.add(None, "年度", r.fiscal_year)
    if r.period:
        d.add(None, "会计期间", f"{r.fiscal_year}-{r.period:02d}")
    d.add(None, "门类", rule.name_zh, 代码=r.category.value)
    retention = "永久" if r.retention.permanent else f"{r.retention.years}年"
    d.add(None, "保管期限", retention, 代码=r.retention.code)
    d.add(None, "保管期限截止日期", kept_until(r.retention, r.retention_until))
    content = d.add(None, "内容描述")
    d.add(content, "题名", _title(r))
    d.add(content, "责任者", r.material.responsible if r.material else company)
    d.add(content, "日期", _made_on(r).isoformat())
    d.add(content, "密级", CLASSIFICATION)
    _voucher(d, r)
    _material(d, r)
    _files(d, r)
    _signatures(d, r)
    for i in r.invoices:
        d.add(None, "电子发票", None, **invoice_attributes(i), **_format_2_attributes(i))
    for receipt in r.receipts:
        d.add(None, "银行电子回单", None, **_receipt(receipt))
    for bill in r.fiscal_bills:
        d.add(None, "财政电子票据", None, **_fiscal_bill(bill))
    conclusion = r.check_conclusion.text if r.check_conclusion else "未记录"
    d.add(None, "四性检测", conclusion, 报告="check-report.json")
    d.add(None, "信息系统描述", SYSTEM)
    _process(d, r)
    ET.indent(d.root)
    document: bytes = ET.tostring(d.root, encoding="utf-8", xml_declaration=True)
    return document


def _fiscal_bill(b: FiscalBillRef) -> dict[str, str]:
    found = {
        "票据代码": b.bill_code,
        "票据号码": b.bill_number,
        "票据名称": b.kind,
        "开票日期": b.issue_date,
        "交款人": b.payer,
        "交款人统一社会信用代码": b.payer_id,
        "收款单位": b.payee,
        "金额合计": f"{b.total.amount:.2f}",
        "校验码": b.check_code,
    }
    return {k: v for k, v in found.items() if v}


SIDES = {"payer": "付款人", "payee": "收款人", "unknown": "未匹配"}


def _receipt(r: BankReceiptRef) -> dict[str, str]:
    return {
        "回单编号": r.number,
        "交易日期": r.transaction_date,
        "金额": f"{r.amount.amount:.2f}",
        "付款人账号": r.payer_account,
        "收款人账号": r.payee_account,
        "本单位": SIDES[r.side],
    }


def _format_2_attributes(i: InvoiceRef) -> dict[str, str]:
    """What format 2 adds to an invoice: its 票种, what a 红字 one offsets, and its 查验 at
    intake (财会〔2020〕6号 三(一)) where one was asked. Format 1 stays byte for byte."""
    more = {"票种": i.kind} if i.kind else {}
    if i.reversal:
        more["红字"] = "true"
    if i.offsets:
        more["对应蓝字发票号码"] = i.offsets
    v = i.verification
    if v is None:
        return more
    return {**more, "查验结果": v.status.value, "查验时间": v.checked_at.isoformat()}


def invoice_attributes(i: InvoiceRef) -> dict[str, str]:
    """An e-invoice booked with the voucher, as both formats describe it (财会〔2020〕6号)."""
    return {
        "发票号码": i.invoice_number,
        "销售方": i.seller_name,
        "销售方税号": i.seller_tax_id,
        "购买方税号": i.buyer_tax_id,
        "开票日期": i.issue_date,
        "价税合计": str(i.total.amount),
    }


def _title(r: RecordArchived) -> str:
    if r.voucher is None and r.material is None:
        return RETENTION_RULES[r.category].name_zh  # an OA approval form: its 门类 says it
    return r.title


def _made_on(r: RecordArchived) -> date:
    """日期: a voucher's date; a material's, the last day of the months it covers; else the day
    it was archived (an OA approval form, finished that day or just before)."""
    if r.voucher is not None:
        return date.fromisoformat(r.voucher.voucher_date)
    if r.material is not None:
        month = r.material.period_to
        return date(r.fiscal_year, month, calendar.monthrange(r.fiscal_year, month)[1])
    return r.archived_at.date()


def _voucher(d: _Doc, r: RecordArchived) -> None:
    if (v := r.voucher) is None:
        return
    voucher = d.add(None, "记账凭证")
    d.add(voucher, "凭证号", v.voucher_no)
    d.add(voucher, "凭证日期", v.voucher_date)
    d.add(voucher, "摘要", v.summary)
    d.add(voucher, "金额", v.total.amount, 币种=v.total.currency)
    d.add(voucher, "附件张数", v.declared_attachment_count)
    d.add(voucher, "制单人", v.preparer)
    d.add(voucher, "审核人", v.reviewer)
    d.add(voucher, "审批人", v.approver)
    for n, e in enumerate(v.entries, 1):
        line = d.add(voucher, "分录", None, 序号=str(n))
        d.add(line, "摘要", e.summary)
        d.add(line, "科目代码", e.account_code)
        d.add(line, "科目名称", e.account_name)
        d.add(line, "借贷方向", e.side)
        d.add(line, "金额", e.amount.amount, 币种=e.amount.currency)
    if c := r.corrects:
        d.add(voucher, "更正", None, 方式=c.kind.value, 档号=c.archive_code)


def _material(d: _Doc, r: RecordArchived) -> None:
    if (m := r.material) is None:
        return
    material = d.add(None, "会计资料")
    months = f"{r.fiscal_year}-{m.period_from:02d}至{r.fiscal_year}-{m.period_to:02d}"
    d.add(material, "起止期间", months)
    if m.bank_account:
        d.add(material, "银行账户", m.bank_account)
    if m.asset_no:
        d.add(material, "资产编号", m.asset_no)
    if m.disposed_on:
        d.add(material, "报废清理日期", m.disposed_on.isoformat())
    if m.reference:
        d.add(material, "区分项", m.reference)


def _files(d: _Doc, r: RecordArchived) -> None:
    files_ = d.add(None, "电子文件")
    for n, f in enumerate(r.originals, 1):
        one = d.add(files_, "文件", None, 序号=str(n), 角色=f.role)
        d.add(one, "计算机文件名", f.filename)
        d.add(one, "格式信息", f.format or "未记录", 媒体类型=f.media_type)
        d.add(one, "计算机文件大小", f.size)
        d.add(one, "数字摘要", f.sha256, 算法="SHA-256")
        d.add(one, "数字摘要", f.sm3, 算法="SM3")
        d.add(one, "存储位置", f.object_key.removeprefix(r.package or ""))


def _signatures(d: _Doc, r: RecordArchived) -> None:
    """One 电子签名 per signature verified at intake, with signer, time and algorithm; one per
    other original carrying fixity information, with what the check made of it."""
    verdict = _fixity_result(r.check_report)
    for n, f in enumerate(r.originals, 1):
        if f.signature is None:
            continue
        if f.bureau_signature is not None:
            _bureau(d, n, f.signature, f.bureau_signature)
            continue
        for v in f.verified:
            signature = d.add(None, "电子签名", None, 文件序号=str(n))
            d.add(signature, "签名规则", f.signature)
            if v.signed_at is not None:
                d.add(signature, "签名时间", v.signed_at.isoformat())
            d.add(signature, "签名人", v.signer)
            if v.seal:
                d.add(signature, "印章名称", v.seal)
            d.add(signature, "签名算法标识", v.algorithm)
            d.add(signature, "签名结果", _verified_result(v))
        if not f.verified:
            signature = d.add(None, "电子签名", None, 文件序号=str(n))
            d.add(signature, "签名规则", f.signature)
            d.add(signature, "签名结果", _signature_result(f, verdict))


def _bureau(d: _Doc, n: int, kind: str, b: BureauSignature) -> None:
    """A 数电票's TaxBureauSignature, as fixity information: kept, not verified here."""
    signature = d.add(None, "电子签名", None, 文件序号=str(n))
    d.add(signature, "签名规则", f"{kind} (TaxBureauSignature, {b.format or '格式未记录'})")
    if b.signed_at is not None:
        d.add(signature, "签名时间", b.signed_at.isoformat())
    if b.bureau:
        d.add(signature, "签名人", b.bureau)
    if b.algorithm:
        d.add(signature, "签名算法标识", b.algorithm)
    d.add(
        signature,
        "签名结果",
        "未验证: 税务机关分离式签名，规范化方法与公钥未公开，真实性以查验为准；"
        f"签名值 SHA-256 {b.value_sha256}；签署范围 {b.reference or '未记录'}",
    )


def _verified_result(v: VerifiedSignature) -> str:
    trust = {
        True: "证书链至信任锚",
        False: "证书未链至信任锚（已提交档案人员审核）",
        None: "未配置信任锚，证书未判断",
    }[v.trusted]
    return f"已验证: 签名完整，签名后未被修改；证书颁发者 {v.issuer}；{trust}"


def _fixity_result(report: tuple[CheckResult, ...]) -> CheckResult | None:
    return next((c for c in report if c.code == "1-1"), None)


def _signature_result(f: StoredFile, verdict: CheckResult | None) -> str:
    if verdict is None:
        return "未验证"
    if verdict.outcome is CheckOutcome.PASSED:
        return "已验证"
    if verdict.outcome is CheckOutcome.FAILED and f.filename in verdict.detail:
        return f"验证未通过: {verdict.detail}"
    return f"未验证: {verdict.detail}" if verdict.detail else "未验证"


def _process(d: _Doc, r: RecordArchived) -> None:
    """The business steps known at accession (DA/T 46 业务实体): 形成 and 归档; later steps
    (移交, 接收, 鉴定, changes) become new metadata versions."""
    process = d.add(None, "业务行为序列")
    formed = d.add(process, "业务行为", None, 序号="1")
    d.add(formed, "行为", "形成")
    d.add(formed, "行为时间", _made_on(r).isoformat())
    if r.voucher is not None:
        d.add(formed, "机构人员", r.voucher.preparer)
        d.add(formed, "行为描述", f"制单 {r.voucher.preparer}，审核 {r.voucher.reviewer}")
    elif r.material is not None:
        d.add(formed, "机构人员", r.material.responsible)
        d.add(formed, "行为描述", "编制")
    else:
        d.add(formed, "机构人员", r.submitted_by or r.fonds_code)
        d.add(formed, "行为描述", "OA 审批完成")
    archived = d.add(process, "业务行为", None, 序号="2")
    d.add(archived, "行为", "归档")
    d.add(archived, "行为时间", r.archived_at.isoformat())
    d.add(archived, "机构人员", r.submitted_by or "未记录")
    conclusion = r.check_conclusion.text if r.check_conclusion else "未记录"
    d.add(archived, "行为描述", f"档号 {r.archive_code}；四性检测 {conclusion}")
