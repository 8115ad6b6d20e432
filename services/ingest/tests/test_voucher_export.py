import json
from decimal import Decimal
from pathlib import Path

import pytest

from contracts.fixity import digest
from ingest.domain.files import MAX_FILE_BYTES, UploadedFile, media_type_of
from ingest.domain.intake import assess, ingested_event, over_limits
from ingest.parsers.files import read_upload
from ingest.parsers.findings import ExportError
from ingest.parsers.voucher import parse_voucher_export

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
VOUCHER = (SAMPLES / "vouchers" / "2025-03-ji-0002.json").read_bytes()
INVOICE = (SAMPLES / "attachments" / "einvoice-25312000000087654321.pdf").read_bytes()


def edited(**changes: object) -> bytes:
    doc = json.loads(VOUCHER)
    doc.update(changes)
    return json.dumps(doc, ensure_ascii=False).encode()


def test_sample_voucher_parses_with_exact_amounts_and_process_information() -> None:
    v = parse_voucher_export(VOUCHER)
    assert v.total_debit == v.total_credit == Decimal("1000.00")
    assert (v.preparer, v.reviewer, v.approver) == ("陈静", "李娜", "王强")
    assert v.entries[1].account_name == "应交税费—应交增值税（进项税额）"


def test_gb18030_export_is_accepted_and_text_is_unchanged() -> None:
    text = VOUCHER.decode()
    v = parse_voucher_export(text.encode("gb18030"))
    assert v.summary == "采购办公用品（打印纸、硒鼓）"
    assert v.company_name == "上海澄明科技有限公司"


def test_unbalanced_voucher_is_rejected_naming_both_totals() -> None:
    with pytest.raises(ExportError, match=r"debits 30000\.00 and credits 29999\.00 do not balance"):
        parse_voucher_export((SAMPLES / "vouchers" / "unbalanced.json").read_bytes())


def test_a_red_ink_voucher_is_accepted_and_still_balances() -> None:
    """红字: the reversal of the sample, every amount negative, as an ERP sends it at month-end;
    negative on one side only does not balance, and is refused like any other imbalance."""
    doc = json.loads(VOUCHER)
    for entry in doc["entries"]:
        entry["debit"], entry["credit"] = f"-{entry['debit']}", f"-{entry['credit']}"
        entry.update({k: "0" for k in ("debit", "credit") if entry[k] in ("-0", "-0.00")})
    red = parse_voucher_export(json.dumps(doc, ensure_ascii=False).encode())
    assert red.total_debit == red.total_credit == Decimal("-1000.00")
    doc["entries"][0]["debit"] = "1.00"
    with pytest.raises(ExportError, match="do not balance"):
        parse_voucher_export(json.dumps(doc, ensure_ascii=False).encode())


def test_malformed_json_names_the_position() -> None:
    with pytest.raises(ExportError, match=r"malformed JSON: .*line 1"):
        parse_voucher_export(b'{"format": "aap.voucher.v1",')


def test_json_nested_beyond_reason_is_refused_not_a_crash() -> None:
    with pytest.raises(ExportError, match="JSON nested too deeply"):
        parse_voucher_export(b"[" * 100_000 + b"]" * 100_000)


def test_every_missing_or_wrong_field_is_named() -> None:
    doc = json.loads(VOUCHER)
    del doc["reviewer"]
    doc["entries"][0]["account_code"] = "66O2"
    with pytest.raises(ExportError) as caught:
        parse_voucher_export(json.dumps(doc).encode())
    coded = {f.field: f.item.code for f in caught.value.findings}
    assert coded["reviewer"] == "2-4"  # a required field is missing
    assert coded["entries.0.account_code"] == "1-3"  # not of its format
    doc["period"] = 13
    with pytest.raises(ExportError) as caught:
        parse_voucher_export(json.dumps(doc).encode())
    assert {f.field: f.item.code for f in caught.value.findings}["period"] == "1-4"  # domain


def test_numbers_beyond_reading_are_named_not_a_crash() -> None:
    with pytest.raises(ExportError, match="unreadable number"):
        parse_voucher_export(edited().replace(b'"period": 3', b'"period": ' + b"9" * 5000))


def test_an_entry_must_be_debit_or_credit_not_both() -> None:
    doc = json.loads(VOUCHER)
    doc["entries"][0]["credit"] = "1.00"
    with pytest.raises(ExportError, match="exactly one of debit and credit"):
        parse_voucher_export(json.dumps(doc).encode())


def test_voucher_date_must_be_real_and_in_the_fiscal_year() -> None:
    with pytest.raises(ExportError, match="voucher_date"):
        parse_voucher_export(edited(voucher_date="2025-02-30"))
    with pytest.raises(ExportError, match="not in fiscal year 2025"):
        parse_voucher_export(edited(voucher_date="2024-12-31"))


def test_text_that_is_neither_utf8_nor_gb18030_is_rejected() -> None:
    with pytest.raises(ExportError, match="neither UTF-8 nor GB18030"):
        parse_voucher_export(b"\xff\xfe\x00\x81\x30")


def test_digests_are_sha256_and_sm3() -> None:
    d = digest(b"abc")
    assert d.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert (
        d.sm3 == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )  # GB/T 32905 A.1
    assert d.content_key == f"sha256/ba/{d.sha256}"


def test_intake_refuses_oversized_uploads_before_parsing_anything() -> None:
    voucher = UploadedFile("voucher", "v.json", "application/json", VOUCHER)
    big = UploadedFile("attachment", "big.pdf", "application/pdf", b"x" * (MAX_FILE_BYTES + 1))
    [over] = over_limits(voucher, [big])
    assert (over.item.code, over.field) == ("3-3", "big.pdf (#1)")
    assert over.message == f"over the limit of {MAX_FILE_BYTES} bytes per file"


def test_empty_and_unaccepted_files_are_rejected_by_their_check_items() -> None:
    voucher = UploadedFile("voucher", "v.json", "application/json", VOUCHER)
    empty = UploadedFile("attachment", "empty.pdf", "application/pdf", b"")
    exe = UploadedFile("attachment", "run.exe", "application/x-msdownload", b"MZ")
    a = assess(read_upload(voucher, [empty, exe]))
    assert not a.accepted
    assert {p.field for p in a.problems} == {"check 1-10", "check 2-7", "check 3-3"}
    assert "empty.pdf (#1, SHA-256 e3b0c44298fc…): file is empty" in " ".join(
        p.message for p in a.problems
    )


def test_accepted_upload_becomes_an_event_with_addresses_and_digests_not_bytes() -> None:
    from datetime import UTC, datetime
    from uuid import uuid4

    voucher = UploadedFile("voucher", "v.json", "application/json", VOUCHER)
    invoice = UploadedFile("attachment", "发票.pdf", media_type_of("发票.pdf", None), INVOICE)
    assessment = assess(read_upload(voucher, [invoice]), virus_scan=[None, None], scanner="clam")
    assert assessment.accepted, assessment.problems
    event = ingested_event(
        assessment,
        document_id=uuid4(),
        bucket="b",
        submitted_by="u",
        at=datetime.now(UTC),
    )
    assert [f.role for f in event.files] == ["voucher", "attachment"]
    assert event.files[1].filename == "发票.pdf" and event.files[1].media_type == "application/pdf"
    assert event.files[1].sha256 == digest(INVOICE).sha256
    assert event.voucher is not None and event.voucher.total.amount == Decimal("1000.00")
    assert "%PDF" not in event.model_dump_json()  # addresses and digests travel, never bytes


def test_media_types_of_e_voucher_formats() -> None:
    assert media_type_of("a.ofd", None) == "application/ofd"
    assert media_type_of("a.xml", None) in {"application/xml", "text/xml"}
    assert media_type_of("a.pdf", "application/octet-stream") == "application/pdf"


def test_the_erps_unsettled_mark_travels_with_the_voucher() -> None:
    """第十九条: the ERP marks a voucher of an unsettled claim (未结清); the mark reaches the
    archive with the voucher, which holds it. An empty mark is refused, naming the field."""
    from datetime import UTC, datetime
    from uuid import uuid4

    matter = "应收杭州禾木贸易有限公司货款未收回"
    voucher = UploadedFile("voucher", "v.json", "application/json", edited(open_matter=matter))
    invoice = UploadedFile("attachment", "发票.pdf", "application/pdf", INVOICE)
    assessment = assess(read_upload(voucher, [invoice]), virus_scan=[None, None], scanner="clam")
    assert assessment.accepted, assessment.problems
    event = ingested_event(
        assessment, document_id=uuid4(), bucket="b", submitted_by="erp", at=datetime.now(UTC)
    )
    assert event.voucher is not None and event.voucher.open_matter == matter
    unmarked = parse_voucher_export(VOUCHER)
    assert unmarked.open_matter is None
    with pytest.raises(ExportError, match="open_matter"):
        parse_voucher_export(edited(open_matter=""))
