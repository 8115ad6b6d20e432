from datetime import UTC, date, datetime

import pytest

from archive.domain.archive_code import ArchiveCodeRule
from archive.domain.record import ObjectLock, archive, object_lock, placement
from archive.domain.retention import RETENTION_RULES, kept_until, retention_until
from contracts.events import DocumentIngested, RecordArchived
from contracts.records import RecordCategory, RetentionPeriod, StoredFile
from devkit.samples import ingested_document


def test_table_covers_all_sixteen_items_of_appendix_1() -> None:
    assert sorted(r.item for r in RETENTION_RULES.values()) == list(range(1, 17))
    assert set(RETENTION_RULES) == set(RecordCategory)


@pytest.mark.parametrize(
    ("category", "code"),
    [
        (RecordCategory.BOOKKEEPING_VOUCHER, "D30"),
        (RecordCategory.SOURCE_DOCUMENT, "D30"),
        (RecordCategory.GENERAL_LEDGER, "D30"),
        (RecordCategory.ANNUAL_FINANCIAL_REPORT, "Y"),
        (RecordCategory.PERIODIC_FINANCIAL_REPORT, "D10"),
        (RecordCategory.TAX_RETURN, "D10"),
        (RecordCategory.HANDOVER_LIST, "D30"),
        (RecordCategory.CUSTODY_REGISTER, "Y"),
        (RecordCategory.DESTRUCTION_LIST, "Y"),
        (RecordCategory.APPRAISAL_OPINION, "Y"),
    ],
)
def test_retention_per_the_regulation(category: RecordCategory, code: str) -> None:
    assert RETENTION_RULES[category].period.code == code


def test_retention_counts_from_the_day_after_fiscal_year_end() -> None:
    # FY2025 ends 2025-12-31; 30 years counted from 2026-01-01 end on 2055-12-31.
    assert retention_until(RetentionPeriod(years=30), 2025) == date(2055, 12, 31)
    assert retention_until(RetentionPeriod(permanent=True), 2025) is None
    now = datetime(2026, 11, 28, tzinfo=UTC)
    assert object_lock(RetentionPeriod(years=30), date(2055, 12, 31), now, 2025) == ObjectLock(
        datetime(2056, 1, 1, tzinfo=UTC), False
    )
    # Permanent: held, and under COMPLIANCE retention that no credential can shorten until a
    # century after its fiscal year (the hold alone could be cleared by whoever holds the keys).
    assert object_lock(RetentionPeriod(permanent=True), None, now, 2025) == ObjectLock(
        datetime(2126, 1, 1, tzinfo=UTC), legal_hold=True
    )
    assert object_lock(RetentionPeriod(years=10), date(2020, 12, 31), now, 2005) == ObjectLock(
        None, legal_hold=False
    )  # already over


def test_fixed_asset_cards_count_from_disposal() -> None:
    card = RETENTION_RULES[RecordCategory.FIXED_ASSET_CARD].period
    assert retention_until(card, 2020) is None  # still in use: not countable yet
    # Counted from the end of the disposal's year (第十四条), not from the disposal's day.
    assert retention_until(card, 2020, disposal=date(2024, 6, 30)) == date(2029, 12, 31)
    assert retention_until(card, 2020, disposal=date(2024, 1, 2)) == date(2029, 12, 31)
    assert kept_until(card, None) == "报废清理后5年"  # what its metadata and registers say
    assert kept_until(card, date(2029, 12, 31)) == "2029-12-31"
    assert kept_until(RetentionPeriod(permanent=True), None) == "永久"
    # In use: held, with no date that would end its lock before the asset is disposed of.
    now = datetime(2026, 11, 28, tzinfo=UTC)
    assert object_lock(card, None, now, 2020) == ObjectLock(None, legal_hold=True)
    assert object_lock(card, date(2029, 12, 31), now, 2020) == ObjectLock(
        datetime(2030, 1, 1, tzinfo=UTC), legal_hold=False
    )


def test_archive_code_rule_builds_and_validates() -> None:
    rule = ArchiveCodeRule()
    assert (
        rule.build(fonds="Q001", year=2025, retention="D30", category="PZ", seq=7)
        == "Q001-2025-D30-PZ-000007"
    )
    custom = ArchiveCodeRule("{fonds}·{year}-{category}·{seq:05d}")
    assert (
        custom.build(fonds="Q1", year=2025, retention="D30", category="PZ", seq=12)
        == "Q1·2025-PZ·00012"
    )
    with pytest.raises(ValueError, match="unknown fields"):
        ArchiveCodeRule("{fonds}-{month}-{seq}")
    with pytest.raises(ValueError, match="must contain"):
        ArchiveCodeRule("{year}-{category}")


def _document() -> DocumentIngested:
    f = StoredFile(
        role="voucher",
        filename="v.json",
        media_type="application/json",
        size=3,
        bucket="ingest",
        object_key="sha256/aa/" + "a" * 64,
        sha256="a" * 64,
        sm3="b" * 64,
    )
    return ingested_document([f])


def test_a_document_becomes_a_record_in_the_archive_bucket() -> None:
    doc, rule = _document(), ArchiveCodeRule()
    where = placement(doc, rule)
    assert where.scope == "Q001|2025|D30|PZ"
    rec = archive(doc, where, 42, rule, bucket="archive", at=datetime.now(UTC))
    assert rec.record_id == doc.document_id
    assert rec.archive_code == "Q001-2025-D30-PZ-000042"
    assert rec.retention_until == date(2055, 12, 31)
    assert rec.originals[0].bucket == "archive"
    assert rec.originals[0].object_key == "Q001-2025-D30-PZ-000042/originals/01-v.json"
    assert rec.package == "Q001-2025-D30-PZ-000042/"
    assert rec.originals[0].sha256 == doc.files[0].sha256


def test_the_package_describes_the_record_without_the_database() -> None:
    import json
    import xml.etree.ElementTree as ET

    from archive.domain.metadata import NAMESPACE, problems
    from archive.domain.package import package_documents

    doc, rule = _document(), ArchiveCodeRule()
    rec = archive(doc, placement(doc, rule), 7, rule, bucket="archive", at=datetime.now(UTC))
    (meta_key, meta, _), (report_key, report, _) = package_documents(rec)
    assert meta_key == "Q001-2025-D30-PZ-000007/metadata.xml"
    assert report_key == "Q001-2025-D30-PZ-000007/check-report.json"
    assert problems(meta) == []  # it validates against the schema in the repository
    root = ET.fromstring(meta)  # noqa: S314 - our own output
    ns = {"a": NAMESPACE}
    assert root.findtext("a:聚合层次", namespaces=ns) == "件"
    assert root.findtext("a:来源/a:立档单位名称", namespaces=ns) == doc.company_name
    assert root.findtext("a:电子文件号", namespaces=ns) == str(rec.record_id)
    assert root.findtext("a:档号", namespaces=ns) == "Q001-2025-D30-PZ-000007"
    assert root.findtext("a:保管期限", namespaces=ns) == "30年"
    assert root.findtext("a:保管期限截止日期", namespaces=ns) == "2055-12-31"
    assert root.findtext("a:内容描述/a:题名", namespaces=ns) == "差旅费"
    assert root.findtext("a:内容描述/a:密级", namespaces=ns) == "内部"
    assert root.findtext("a:记账凭证/a:摘要", namespaces=ns) == "差旅费"
    f = root.find("a:电子文件/a:文件", ns)
    assert f is not None
    assert f.findtext("a:数字摘要", namespaces=ns) == "a" * 64
    assert f.findtext("a:存储位置", namespaces=ns) == "originals/01-v.json"
    steps = [
        s.findtext("a:行为", namespaces=ns) for s in root.iterfind("a:业务行为序列/a:业务行为", ns)
    ]
    assert steps == ["形成", "归档"]
    written = json.loads(report)
    assert [i["code"] for i in written["items"]] == [
        "1-7", "1-11", "3-2", "4-7", "AAP-CORRECTION", "2-3"
    ]  # fmt: skip
    assert written["conclusion"]["text"] == "通过"  # the accession's items, each passed or n/a
    assert root.findtext("a:四性检测", namespaces=ns) == "通过"


def test_a_voucher_s_lines_and_signatures_are_described() -> None:
    """The entries with 科目 and 借贷, and a signature block per signed original with what the
    check made of it (DA/T 46 电子签名)."""
    import xml.etree.ElementTree as ET

    from archive.domain.metadata import NAMESPACE, metadata_xml, problems
    from contracts.checks import CHECK_1_1
    from contracts.records import CheckOutcome, VoucherLine
    from contracts.types import Money

    doc, rule = _document(), ArchiveCodeRule()
    assert doc.voucher is not None
    lines = (
        VoucherLine(summary="差旅费", account_code="6602", account_name="管理费用", side="借",
                    amount=Money(amount="-120.00", currency="CNY")),
        VoucherLine(summary="差旅费", account_code="100201", account_name="银行存款", side="贷",
                    amount=Money(amount="-120.00", currency="CNY")),
    )  # fmt: skip
    signed = doc.files[0].model_copy(update={"signature": "数电票 XML 签名"})
    unverified = CHECK_1_1.result(CheckOutcome.NOT_PERFORMED, "the signer's certificate is absent")
    doc = doc.model_copy(
        update={
            "voucher": doc.voucher.model_copy(update={"entries": lines}),
            "files": (signed,),
            "check_report": (unverified,),
        }
    )
    rec = archive(doc, placement(doc, rule), 7, rule, bucket="archive", at=datetime.now(UTC))
    meta = metadata_xml(rec)
    assert problems(meta) == []
    root = ET.fromstring(meta)  # noqa: S314 - our own output
    ns = {"a": NAMESPACE}
    entries = root.findall("a:记账凭证/a:分录", ns)
    assert [(e.findtext("a:科目代码", namespaces=ns), e.findtext("a:借贷方向", namespaces=ns),
             e.findtext("a:金额", namespaces=ns)) for e in entries] == [
        ("6602", "借", "-120.00"), ("100201", "贷", "-120.00")
    ]  # fmt: skip
    [signature] = root.findall("a:电子签名", ns)
    assert signature.get("文件序号") == "1"
    assert signature.findtext("a:签名规则", namespaces=ns) == "数电票 XML 签名"
    assert signature.findtext("a:签名结果", namespaces=ns) == (
        "未验证: the signer's certificate is absent"
    )
    broken = meta.replace("<借贷方向>借</借贷方向>".encode(), "<借贷方向>平</借贷方向>".encode())
    assert any("借贷方向" in p for p in problems(broken))


def test_a_verified_signature_is_described_with_signer_time_and_algorithm() -> None:
    import xml.etree.ElementTree as ET

    from archive.domain.metadata import NAMESPACE, metadata_xml, problems
    from contracts.records import VerifiedSignature

    doc, rule = _document(), ArchiveCodeRule()
    bank = VerifiedSignature(
        signer="Common Name: 上海浦东发展银行 电子回单专用",
        issuer="Common Name: 某银行 根证书",
        signed_at=datetime(2025, 3, 20, 8, 30, tzinfo=UTC),
        algorithm="sha256_ecdsa",
        trusted=False,
    )
    signed = doc.files[0].model_copy(update={"signature": "PDF 数字签名", "verified": (bank,)})
    doc = doc.model_copy(update={"files": (signed,)})
    rec = archive(doc, placement(doc, rule), 7, rule, bucket="archive", at=datetime.now(UTC))
    meta = metadata_xml(rec)
    assert problems(meta) == []
    ns = {"a": NAMESPACE}
    [signature] = ET.fromstring(meta).findall("a:电子签名", ns)  # noqa: S314 - our own output
    assert signature.findtext("a:签名人", namespaces=ns) == bank.signer
    assert signature.findtext("a:签名时间", namespaces=ns) == "2025-03-20T08:30:00+00:00"
    assert signature.findtext("a:签名算法标识", namespaces=ns) == "sha256_ecdsa"
    result = signature.findtext("a:签名结果", namespaces=ns) or ""
    assert result.startswith("已验证") and "某银行 根证书" in result and "未链至信任锚" in result


def test_an_ofd_seal_is_described_with_its_seal_name() -> None:
    import xml.etree.ElementTree as ET

    from archive.domain.metadata import NAMESPACE, metadata_xml, problems
    from contracts.records import VerifiedSignature

    doc, rule = _document(), ArchiveCodeRule()
    hotel = VerifiedSignature(
        signer="北京国贸嘉华酒店管理有限公司", issuer="某电子印章 CA",
        signed_at=datetime(2025, 3, 3, 2, 15, tzinfo=UTC), algorithm="sm2_sm3", trusted=True,
        seal="北京国贸嘉华酒店管理有限公司发票专用章",
    )  # fmt: skip
    signed = doc.files[0].model_copy(update={"signature": "OFD 电子签章", "verified": (hotel,)})
    doc = doc.model_copy(update={"files": (signed,)})
    rec = archive(doc, placement(doc, rule), 7, rule, bucket="archive", at=datetime.now(UTC))
    meta = metadata_xml(rec)
    assert problems(meta) == []
    ns = {"a": NAMESPACE}
    [signature] = ET.fromstring(meta).findall("a:电子签名", ns)  # noqa: S314 - our own output
    assert signature.findtext("a:印章名称", namespaces=ns) == hotel.seal
    assert signature.findtext("a:签名算法标识", namespaces=ns) == "sm2_sm3"
    assert "证书链至信任锚" in (signature.findtext("a:签名结果", namespaces=ns) or "")


def test_the_tax_bureaus_signature_is_described_as_kept_not_verified() -> None:
    import xml.etree.ElementTree as ET

    from archive.domain.metadata import NAMESPACE, metadata_xml, problems
    from contracts.records import BureauSignature

    doc, rule = _document(), ArchiveCodeRule()
    bureau = BureauSignature(
        bureau="国家税务总局北京市朝阳区税务局", algorithm="1.2.156.10197.1.501", format="DETACH",
        signed_at=datetime(2025, 3, 3, 2, 12, 47, tzinfo=UTC), reference="/Einvoice/Header",
        value_sha256="c" * 64,
    )  # fmt: skip
    signed = doc.files[0].model_copy(
        update={"signature": "数电票 XML 签名", "bureau_signature": bureau}
    )
    doc = doc.model_copy(update={"files": (signed,)})
    rec = archive(doc, placement(doc, rule), 7, rule, bucket="archive", at=datetime.now(UTC))
    meta = metadata_xml(rec)
    assert problems(meta) == []
    ns = {"a": NAMESPACE}
    [signature] = ET.fromstring(meta).findall("a:电子签名", ns)  # noqa: S314 - our own output
    assert signature.findtext("a:签名人", namespaces=ns) == "国家税务总局北京市朝阳区税务局"
    assert signature.findtext("a:签名算法标识", namespaces=ns) == "1.2.156.10197.1.501"
    assert signature.findtext("a:签名时间", namespaces=ns) == "2025-03-03T02:12:47+00:00"
    result = signature.findtext("a:签名结果", namespaces=ns) or ""
    assert result.startswith("未验证") and "查验" in result and "c" * 64 in result


def test_a_bank_receipt_is_described_with_the_company_s_side() -> None:
    import xml.etree.ElementTree as ET

    from archive.domain.metadata import NAMESPACE, metadata_xml, problems
    from contracts.records import BankReceiptRef
    from contracts.types import Money

    doc, rule = _document(), ArchiveCodeRule()
    receipt = BankReceiptRef(
        number="20250320104411000102", transaction_date="2025-03-20",
        amount=Money(amount="56500.00"), payer_account="3301040000001234567",
        payee_account="1001234567890123456", side="payee", file_sha256="d" * 64,
    )  # fmt: skip
    doc = doc.model_copy(update={"receipts": (receipt,)})
    rec = archive(doc, placement(doc, rule), 7, rule, bucket="archive", at=datetime.now(UTC))
    assert rec.receipts == (receipt,)
    meta = metadata_xml(rec)
    assert problems(meta) == []
    ns = {"a": NAMESPACE}
    [kept] = ET.fromstring(meta).findall("a:银行电子回单", ns)  # noqa: S314 - our own output
    assert (kept.get("回单编号"), kept.get("金额"), kept.get("本单位")) == (
        "20250320104411000102", "56500.00", "收款人"
    )  # fmt: skip


def test_a_fiscal_bill_is_described_with_its_code_number_and_payer() -> None:
    import xml.etree.ElementTree as ET

    from archive.domain.metadata import NAMESPACE, metadata_xml, problems
    from contracts.records import FiscalBillRef
    from contracts.types import Money

    doc, rule = _document(), ArchiveCodeRule()
    bill = FiscalBillRef(
        bill_code="31060125", bill_number="0012345678", kind="上海市非税收入统一票据（电子）",
        issue_date="2025-03-18", payer="上海澄明科技有限公司", payer_id="91310115MA1K4XYZ0P",
        payee="上海市浦东新区不动产登记事务中心", total=Money(amount="80.00"),
        check_code="7c2e9a", file_sha256="e" * 64,
    )  # fmt: skip
    doc = doc.model_copy(update={"fiscal_bills": (bill,)})
    rec = archive(doc, placement(doc, rule), 7, rule, bucket="archive", at=datetime.now(UTC))
    assert rec.fiscal_bills == (bill,)
    meta = metadata_xml(rec)
    assert problems(meta) == []
    ns = {"a": NAMESPACE}
    [kept] = ET.fromstring(meta).findall("a:财政电子票据", ns)  # noqa: S314 - our own output
    assert (kept.get("票据代码"), kept.get("票据号码"), kept.get("金额合计")) == (
        "31060125", "0012345678", "80.00"
    )  # fmt: skip
    assert kept.get("交款人统一社会信用代码") == "91310115MA1K4XYZ0P"


def test_an_invoice_s_查验_is_described_where_it_was_asked() -> None:
    import xml.etree.ElementTree as ET

    from archive.domain.metadata import NAMESPACE, metadata_xml, problems
    from contracts.records import InvoiceRef, InvoiceStatus, InvoiceVerification
    from contracts.types import Money

    doc, rule = _document(), ArchiveCodeRule()
    checked_at = datetime(2025, 3, 20, 8, tzinfo=UTC)
    voided = InvoiceVerification(
        status=InvoiceStatus.VOIDED, detail="200 成功", provider="p", checked_at=checked_at
    )
    invoice = InvoiceRef(
        invoice_number="25312000000087654321", seller_tax_id="913101", buyer_tax_id="913102",
        issue_date="2025-03-11", total=Money(amount="1000.00"), file_sha256="b" * 64,
        verification=voided,
    )  # fmt: skip
    unasked = invoice.model_copy(
        update={"invoice_number": "25312000000011111111", "verification": None,
                "reversal": True, "offsets": "25312000000087654321",
                "kind": "电子发票（普通发票）"}
    )  # fmt: skip
    doc = doc.model_copy(update={"invoices": (invoice, unasked)})
    rec = archive(doc, placement(doc, rule), 7, rule, bucket="archive", at=datetime.now(UTC))
    meta = metadata_xml(rec)
    assert problems(meta) == []
    ns = {"a": NAMESPACE}
    first, second = ET.fromstring(meta).findall("a:电子发票", ns)  # noqa: S314 - our own output
    assert (first.get("查验结果"), first.get("查验时间")) == ("作废", "2025-03-20T08:00:00+00:00")
    assert second.get("查验结果") is None
    assert (second.get("红字"), second.get("对应蓝字发票号码")) == ("true", "25312000000087654321")
    assert second.get("票种") == "电子发票（普通发票）"


def test_a_record_archived_before_conclusions_keeps_its_package_as_written() -> None:
    """Packages are locked: a re-check compares them with what the record gives, so a record
    kept before reports had conclusions must give exactly what was written then."""
    import json

    from archive.domain.package import package_documents
    from contracts.records import CheckOutcome, CheckResult

    doc, rule = _document(), ArchiveCodeRule()
    rec = archive(doc, placement(doc, rule), 7, rule, bucket="archive", at=datetime.now(UTC))
    old_item = CheckResult(
        code="1-8", name="重复数据 duplicates", property="authenticity", outcome=CheckOutcome.PASSED
    )
    legacy = rec.model_copy(
        update={"check_report": (old_item,), "check_conclusion": None, "package_format": 1}
    )
    (_, meta, _), (_, report, _) = package_documents(legacy)
    assert json.loads(report) == [
        {"code": "1-8", "name": "重复数据 duplicates", "property": "authenticity",
         "outcome": "passed", "detail": ""}
    ]  # fmt: skip
    assert '<四性检测 报告="check-report.json">通过</四性检测>' in meta.decode()


def test_vouchers_are_assembled_into_monthly_volumes() -> None:
    from archive.domain.volumes import assemble

    rule = ArchiveCodeRule()
    records = []
    for seq, period in [(3, 4), (1, 3), (2, 3)]:
        doc = _document().model_copy(update={"period": period})
        records.append(
            archive(doc, placement(doc, rule), seq, rule, bucket="b", at=datetime.now(UTC))
        )
    march, april = assemble(records)
    assert (march.number, march.period, march.item_count) == (1, 3, 2)
    assert march.code_range == ("Q001-2025-D30-PZ-000001", "Q001-2025-D30-PZ-000002")
    assert march.date_range == ("2025-03-05", "2025-03-05")
    assert (april.number, april.period, april.item_count) == (2, 4, 1)


def test_temporary_custody_lasts_a_year_after_year_end_three_at_most() -> None:
    from archive.domain.lifecycle import custody_due

    assert custody_due(2024) == date(2025, 12, 31)
    assert custody_due(2024, extended_years=2) == date(2027, 12, 31)
    with pytest.raises(ValueError, match="3 years at most"):
        custody_due(2024, extended_years=3)


def test_custody_is_extended_only_further_and_never_past_three_years() -> None:
    from archive.domain.lifecycle import CustodyConflict, extended_custody

    assert extended_custody(2024, 1, current=0) == date(2026, 12, 31)
    assert extended_custody(2024, 2, current=1) == date(2027, 12, 31)
    with pytest.raises(CustodyConflict, match="already extended by 2 year"):
        extended_custody(2024, 1, current=2)
    with pytest.raises(CustodyConflict, match="3 years at most"):
        extended_custody(2024, 3, current=0)


def test_volumes_bound_at_handover_keep_their_numbers_and_late_records_follow() -> None:
    from archive.domain.volumes import assemble, bind, year_volumes

    rule = ArchiveCodeRule()

    def record(seq: int, period: int) -> RecordArchived:
        doc = _document().model_copy(update={"period": period})
        return archive(doc, placement(doc, rule), seq, rule, bucket="b", at=datetime.now(UTC))

    march, april = record(1, 3), record(2, 4)
    bound = bind(assemble([march, april]))
    late_february = record(3, 2)  # archived after the handover
    volumes = year_volumes([march, april, late_february], bound)
    assert [(v.number, v.period, v.bound) for v in volumes] == [
        (1, 3, True),
        (2, 4, True),
        (3, 2, False),  # provisional, numbered on: bound numbers never move
    ]
    assert assemble([march, april, late_february])[0].period == 2  # re-assembling would renumber


@pytest.mark.parametrize(
    ("as_of", "kept"),
    [
        (date(2025, 12, 31), "未满1年"),  # the year not yet ended
        (date(2026, 12, 31), "未满1年"),
        (date(2027, 1, 1), "1年"),  # counted from the day after the fiscal year ends
        (date(2040, 6, 30), "14年"),
    ],
)
def test_the_handover_list_counts_years_kept_from_the_day_after_the_year(
    as_of: date, kept: str
) -> None:
    from archive.domain.registers import kept_for

    assert kept_for(2025, as_of) == kept
