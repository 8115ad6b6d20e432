"""The self-describing package of an archived record (DA/T 92-2022 §8 style).

A folder named by the archive code (档号) holds the originals, ``metadata.xml`` (the record's
metadata) and ``check-report.json`` (the four-property check): read together, without the
database, they say what the record is and prove it is intact.

``metadata.xml`` has two formats. Records archived now get format 2 (``archive.domain.metadata``:
the DA/T 46/94 elements, validated against a schema); records archived before keep format 1,
written here, since a package is locked once written and a re-check compares like with like.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from archive.domain import metadata
from archive.domain.retention import RETENTION_RULES, kept_until
from contracts.events import RecordArchived

NAMESPACE = "urn:aap:accounting-archive:1"  # format 1
# The fields a check-report.json item had before reports carried their conclusion.
LEGACY_ITEM = {"code", "name", "property", "outcome", "detail"}


def metadata_xml_v1(r: RecordArchived) -> bytes:
    """Format 1: the first metadata.xml, in a namespace of its own with no schema."""
    root = ET.Element("会计档案", {"xmlns": NAMESPACE})

    def add(parent: ET.Element, tag: str, text: object = None, **attrs: str) -> ET.Element:
        child = ET.SubElement(parent, tag, attrs)
        if text is not None:
            child.text = str(text)
        return child

    add(root, "档号", r.archive_code)
    add(root, "全宗号", r.fonds_code)
    add(root, "年度", r.fiscal_year)
    if r.period:
        add(root, "会计期间", f"{r.fiscal_year}-{r.period:02d}")
    add(root, "档案门类", RETENTION_RULES[r.category].name_zh, code=r.category.value)
    add(
        root,
        "保管期限",
        "永久" if r.retention.permanent else f"{r.retention.years}年",
        code=r.retention.code,
    )
    add(root, "保管期限截止日期", kept_until(r.retention, r.retention_until))
    if m := r.material:
        material = add(root, RETENTION_RULES[r.category].name_zh)
        add(material, "题名", m.title)
        add(material, "责任者", m.responsible)
        add(
            material,
            "起止期间",
            f"{r.fiscal_year}-{m.period_from:02d}至{r.fiscal_year}-{m.period_to:02d}",
        )
        if m.bank_account:
            add(material, "银行账户", m.bank_account)
        if m.asset_no:
            add(material, "资产编号", m.asset_no)
        if m.reference:
            add(material, "区分项", m.reference)
    if v := r.voucher:
        voucher = add(root, "记账凭证")
        add(voucher, "凭证号", v.voucher_no)
        add(voucher, "凭证日期", v.voucher_date)
        add(voucher, "摘要", v.summary)
        add(voucher, "金额", v.total.amount, 币种=v.total.currency)
        add(voucher, "制单人", v.preparer)
        add(voucher, "审核人", v.reviewer)
        add(voucher, "审批人", v.approver)
        add(voucher, "附件张数", v.declared_attachment_count)
    files = add(root, "电子文件")
    for f in r.originals:
        add(
            files,
            "文件",
            None,
            角色=f.role,
            名称=f.filename,
            格式=f.media_type,
            大小=str(f.size),
            SHA256=f.sha256,
            SM3=f.sm3,
            路径=f.object_key.removeprefix(r.package or ""),
        )
    for i in r.invoices:
        add(root, "电子发票", None, **metadata.invoice_attributes(i))
    add(root, "四性检测", _conclusion_text(r), 报告="check-report.json")
    add(root, "归档时间", r.archived_at.isoformat())
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def _conclusion_text(r: RecordArchived) -> str:
    if r.check_conclusion is not None:
        return r.check_conclusion.text
    # Records archived before conclusions were kept: their packages say what they said then.
    failed = [c.code for c in r.check_report if c.outcome.value == "failed"]
    return "通过" if not failed else f"未通过项: {', '.join(failed)}"


def metadata_xml(r: RecordArchived) -> bytes:
    """The record's metadata.xml in the format it was archived in."""
    return metadata.metadata_xml(r) if r.package_format >= metadata.FORMAT else metadata_xml_v1(r)


def package_documents(r: RecordArchived) -> list[tuple[str, bytes, str]]:
    """(key, content, media type) of the package's descriptive files, beside the originals.

    A package is locked once written, and re-checks compare it with what this function gives:
    so a record archived before a format change keeps the format it was written in.
    """
    prefix = r.package or f"{r.archive_code}/"
    if r.check_conclusion is None:
        legacy = [c.model_dump(mode="json", include=LEGACY_ITEM) for c in r.check_report]
        report = json.dumps(legacy, ensure_ascii=False, indent=1)
    else:
        items = [c.model_dump(mode="json") for c in r.check_report]
        conclusion = r.check_conclusion.model_dump(mode="json")
        report = json.dumps(
            {"conclusion": conclusion, "items": items}, ensure_ascii=False, indent=1
        )
    return [
        (f"{prefix}metadata.xml", metadata_xml(r), "application/xml"),
        (f"{prefix}check-report.json", report.encode(), "application/json"),
    ]
