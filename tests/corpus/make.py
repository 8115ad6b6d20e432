"""Writes the hostile corpus: files made to hurt a parser, each beside what the service must answer.

    python tests/corpus/make.py        (the files are committed; run it again to change them)

``expected.json`` says, per file, where it is sent (a voucher's attachment, the voucher itself, a
journal, a package) and which answers are right. None is a 500; every refusal names its reason.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path

from pypdf import PdfWriter

from devkit.pki import Authority, amended, sign_pdf
from devkit.sample_invoices import SAMPLE_OFDS, text_pdf
from devkit.sample_invoices import ofd as ofd_invoice
from devkit.sm2 import Sm2Authority

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parents[1] / "samples"
PDF = (SAMPLES / "attachments" / "einvoice-25312000000087654321.pdf").read_bytes()
RECEIPT = (SAMPLES / "attachments" / "bank-receipt-20250320-0004411.pdf").read_bytes()
INVOICE = (SAMPLES / "attachments" / "einvoice-25312000000012345678.xml").read_bytes()
VOUCHER = (SAMPLES / "vouchers" / "2025-03-ji-0002.json").read_text(encoding="utf-8")
JOURNAL = (SAMPLES / "journals" / "kingdee-k3-2025-04.csv").read_text(encoding="utf-8-sig")

Refused = [422]
EXPECTED: dict[str, dict[str, object]] = {}


def write(
    name: str, data: bytes, send: str, statuses: list[int], why: str, held: str | None = None
) -> None:
    """``held``: accepted, and held for review by this check item's failure."""
    (HERE / name).parent.mkdir(parents=True, exist_ok=True)
    (HERE / name).write_bytes(data)
    EXPECTED[name] = {"send": send, "statuses": statuses, "why": why}
    if held:
        EXPECTED[name]["held"] = held


def zipped(entries: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in entries:
            z.writestr(name, data)
    return buf.getvalue()


def ofd(official: bytes) -> bytes:
    return zipped([("OFD.xml", official), ("Doc_0/Document.xml", b"<Document/>")])


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt("secret")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def workbook(dimension: str, extra_cell: str = "") -> bytes:
    """A journal workbook written by hand: its sheet declares ``dimension`` whatever it holds."""
    header = JOURNAL.splitlines()[0].split(",")
    rows = [header, JOURNAL.splitlines()[1].split(","), JOURNAL.splitlines()[2].split(",")]
    strings = sorted({c for row in rows for c in row})
    index = {s: n for n, s in enumerate(strings)}

    def cell(col: int, row: int, value: str) -> str:
        letters = ""
        while col:
            col, rem = divmod(col - 1, 26)
            letters = chr(65 + rem) + letters
        return f'<c r="{letters}{row}" t="s"><v>{index[value]}</v></c>'

    body = "".join(
        f'<row r="{r}">' + "".join(cell(c, r, v) for c, v in enumerate(row, 1)) + "</row>"
        for r, row in enumerate(rows, 1)
    )
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>{body}{extra_cell}</sheetData></worksheet>'
    )
    sst = "".join(f"<si><t>{s}</t></si>" for s in strings)
    ns = "http://schemas.openxmlformats.org"
    return zipped(
        [
            (
                "[Content_Types].xml",
                f'<Types xmlns="{ns}/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
                'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
                'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
                'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'.encode(),
            ),
            (
                "_rels/.rels",
                f'<Relationships xmlns="{ns}/package/2006/relationships"><Relationship Id="r1" '
                f'Type="{ns}/officeDocument/2006/relationships/officeDocument" '
                'Target="xl/workbook.xml"/></Relationships>'.encode(),
            ),
            (
                "xl/workbook.xml",
                f'<workbook xmlns="{ns}/spreadsheetml/2006/main" xmlns:r="{ns}/officeDocument/'
                '2006/relationships"><sheets><sheet name="凭证" sheetId="1" r:id="r1"/></sheets>'
                "</workbook>".encode(),
            ),
            (
                "xl/_rels/workbook.xml.rels",
                f'<Relationships xmlns="{ns}/package/2006/relationships">'
                f'<Relationship Id="r1" Type="{ns}/officeDocument/2006/relationships/worksheet" '
                'Target="worksheets/sheet1.xml"/>'
                f'<Relationship Id="r2" Type="{ns}/officeDocument/2006/relationships/'
                'sharedStrings" Target="sharedStrings.xml"/></Relationships>'.encode(),
            ),
            ("xl/worksheets/sheet1.xml", sheet.encode()),
            (
                "xl/sharedStrings.xml",
                f'<sst xmlns="{ns}/spreadsheetml/2006/main">{sst}</sst>'.encode(),
            ),
        ]
    )


def main() -> None:
    # PDFs, as attachments of a voucher
    write("pdf/truncated.pdf", PDF[: len(PDF) // 2], "attachment", Refused, "3-4 cut in half")
    write(
        "pdf/garbage-xref.pdf",
        b"%PDF-1.7\n1 0 obj <</Type/Catalog/Pages 9 0 R>> endobj\nxref\nnonsense\n"
        b"trailer <</Root 1 0 R/Size 99999999>>\nstartxref\n999999999\n%%EOF\n",
        "attachment",
        Refused,
        "3-4 its cross-reference table is nonsense",
    )
    write("pdf/not-a-pdf.pdf", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "attachment", Refused, "1-10")
    write("pdf/encrypted.pdf", encrypted_pdf(), "attachment", Refused, "3-8 encrypted")
    write(
        "pdf/misleading-text-layer.pdf",
        text_pdf(
            "电子发票（普通发票）",
            "发票号码：25312000000077777777",
            "开票日期：2025年13月45日",
            "统一社会信用代码/纳税人识别号：91310115MA1K4XYZ0P",
        ),
        "attachment",
        [202],
        "a text layer claiming an invoice with an impossible date: accepted only as an "
        "attachment, held for review naming it, never a printout that skips the duplicate check",
        held="AAP-INVOICE-SOURCE",
    )
    # Signatures: a signed receipt whose signature is garbage, and one stamped after signing
    # (a throwaway CA: neither is trusted, and neither gets that far).
    signer = Authority.root("语料 测试根证书").issue("语料 签名人", "语料公司")
    signed = sign_pdf(RECEIPT, signer)
    start = signed.index(b"/Contents <") + len(b"/Contents <")
    end = signed.index(b">", start)
    write(
        "pdf/signature-not-a-signature.pdf",
        signed[:start] + b"0" * (end - start) + signed[end:],
        "attachment",
        Refused,
        "1-1 a signature field whose value is no signature: refused, never passed as unsigned",
    )
    write(
        "pdf/stamped-after-signing.pdf",
        amended(signed, "RMB 98,000.00"),
        "attachment",
        Refused,
        "1-1 text stamped on the page after signing: the signed revision is intact, the file not",
    )
    # A bank e-receipt claiming an amount no transfer has: named, held, never a plain attachment
    write(
        "pdf/receipt-impossible-amount.pdf",
        text_pdf(
            "中国工商银行 电子回单",
            "回单编号：20250320000000999901",
            "交易日期：2025年03月20日",
            "付款人账号：3301 0400 0000 1234 567",
            "收款人账号：1001 2345 6789 0123 456",
            "金额（小写）：¥0.00",
        ),
        "attachment",
        [202],
        "a bank receipt whose amount is no transfer's: named and held, never a plain attachment "
        "that skips the duplicate check",
        held="AAP-RECEIPT-MATCH",
    )
    # OFD packages
    # Invoices of their own: the corpus runs beside tests that book the samples' invoices.
    hotel = replace(SAMPLE_OFDS["einvoice-25312000000012345678.ofd"], number="25312000000066666661")
    tagged = zipfile.ZipFile(io.BytesIO(ofd_invoice(hotel, "custom_tag")))
    climbing = {n: tagged.read(n) for n in tagged.namelist()}
    climbing["Doc_0/Document.xml"] = climbing["Doc_0/Document.xml"].replace(
        b"Tags/CustomTags.xml", b"../../../etc/CustomTags.xml"
    )
    write(
        "ofd/custom-tag-climbs-out.ofd",
        zipped(list(climbing.items())),
        "attachment",
        [202],
        "an e-invoice custom tag pointing out of the package: nothing is read from there; the "
        "invoice is read from the page's text and held until confirmed",
        held="AAP-INVOICE-SOURCE",
    )
    plain = zipfile.ZipFile(io.BytesIO(ofd_invoice(replace(hotel, number="25312000000066666662"))))
    impossible = {n: plain.read(n) for n in plain.namelist()}
    impossible["OFD.xml"] = impossible["OFD.xml"].replace(
        "2025年03月03日".encode(), "2025年13月45日".encode()
    )
    write(
        "ofd/structured-impossible-date.ofd",
        zipped(list(impossible.items())),
        "attachment",
        [202],
        "an OFD whose structured data gives an impossible 开票日期: named, held, never a plain "
        "attachment that skips the duplicate check",
        held="AAP-INVOICE-SOURCE",
    )
    # Sealed OFDs (GB/T 38540) a forger reworked: the seal verifier must never see, or pass, them.
    authority = Sm2Authority.make(Path(tempfile.mkdtemp(prefix="corpus-sm2-")), "corpus CA")

    def sealed(number: str) -> dict[str, bytes]:
        data = authority.seal(
            ofd_invoice(replace(hotel, number=number)), "发票专用章", "某酒店", "某酒店"
        )
        package = zipfile.ZipFile(io.BytesIO(data))
        return {n: package.read(n) for n in package.namelist() if not n.endswith("/")}

    entity = sealed("25312000000066666663")
    entity["Doc_0/Signs/Signatures.xml"] = entity["Doc_0/Signs/Signatures.xml"].replace(
        b"?>", b'?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', 1
    )
    write(
        "ofd/sealed-signatures-entity.ofd",
        zipped(list(entity.items())),
        "attachment",
        Refused,
        "3-4 a sealed OFD whose Signatures.xml declares an external entity: refused before the "
        "seal verifier parses it",
    )
    garbage = sealed("25312000000066666664")
    garbage["Doc_0/Signs/Sign_0/SignedValue.dat"] = b"\x30\x03\x02\x01\x05"
    write(
        "ofd/sealed-value-garbage.ofd",
        zipped(list(garbage.items())),
        "attachment",
        Refused,
        "1-1 a seal whose signed value is no GB/T 38540 structure: no signature, refused",
    )
    stripped = sealed("25312000000066666665")
    stripped["OFD.xml"] = re.sub(
        rb"<ofd:Signatures>[^<]*</ofd:Signatures>", b"", stripped["OFD.xml"]
    )
    write(
        "ofd/sealed-list-unlinked.ofd",
        zipped(list(stripped.items())),
        "attachment",
        Refused,
        "1-1 Signatures.xml kept but unlinked from OFD.xml (a seal hidden from verifiers): refused",
    )
    write("ofd/bad-xml.ofd", ofd(b"<ofd:OFD"), "attachment", Refused, "3-4 OFD.xml malformed")
    write(
        "ofd/no-ofd-xml.ofd",
        zipped([("Doc_0/Document.xml", b"<Document/>")]),
        "attachment",
        Refused,
        "3-4 no OFD.xml",
    )
    page = b"<a>" + b"b" * 9_000_000 + b"</a>"
    write(
        "ofd/bomb.ofd",
        zipped([("OFD.xml", b"<OFD/>"), ("Doc_0/Pages/Page_0/Content.xml", page)]),
        "attachment",
        Refused,
        "3-4 a zip bomb",
    )
    # XML attachments
    declared = INVOICE.decode().replace('encoding="utf-8"', 'encoding="UTF-8"')
    write(
        "xml/rot13-declared.xml",
        declared.replace('encoding="UTF-8"', 'encoding="rot13"').encode(),
        "attachment",
        Refused,
        "3-4 a codec Python has that is no character encoding",
    )
    write(
        "xml/base64-declared.xml",
        declared.replace('encoding="UTF-8"', 'encoding="base64"').encode(),
        "attachment",
        Refused,
        "3-4 idem",
    )
    write(
        "xml/utf32-declared.xml",
        declared.replace('encoding="UTF-8"', 'encoding="UTF-32"').encode(),
        "attachment",
        Refused,
        "3-4 declares UTF-32, is not",
    )
    write(
        "xml/gbk-declared-utf8-content.xml",
        declared.replace('encoding="UTF-8"', 'encoding="GBK"').encode(),
        "attachment",
        [202, 422],
        "read as GBK: garbled names, judged like any invoice",
    )
    write(
        "xml/entity-bomb.xml",
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b"<EInvoice>&c;</EInvoice>",
        "attachment",
        Refused,
        "3-4 entities refused",
    )
    write(
        "xml/xxe.xml",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<EInvoice>&e;</EInvoice>",
        "attachment",
        Refused,
        "3-4 external entity refused",
    )
    write(
        "xml/deep-nesting.xml",
        b"<a>" * 50_000 + b"</a>" * 50_000,
        "attachment",
        [202, 422],
        "deep but well-formed: read, or refused naming why",
    )
    for name, value in [("nan", b"NaN"), ("infinite", b"Infinity"), ("mills", b"1280.005")]:
        write(
            f"xml/einvoice-total-{name}.xml",
            INVOICE.replace(b">1280.00<", b">" + value + b"<"),
            "attachment",
            Refused,
            "3-4 the total is no amount of 分",
        )
    write(
        "xml/einvoice-bad-date.xml",
        INVOICE.replace(b"2025-03-03", b"2025-13-45"),
        "attachment",
        Refused,
        "3-4 no such date",
    )
    # The voucher export itself
    doc = json.loads(VOUCHER)
    write(
        "json/huge-integer.json",
        VOUCHER.replace('"period": 3', '"period": ' + "9" * 5000).encode(),
        "voucher",
        Refused,
        "3-1 an integer Python will not convert",
    )
    write("json/deep.json", b"[" * 200_000 + b"]" * 200_000, "voucher", Refused, "3-1")
    write("json/utf16.json", VOUCHER.encode("utf-16"), "voucher", Refused, "3-1 not UTF-8/GB18030")
    write(
        "json/float-amount.json",
        json.dumps({**doc, "entries": [{**doc["entries"][0], "debit": 1e308}]}).encode(),
        "voucher",
        Refused,
        "1-3, 1-5",
    )
    write("json/not-an-object.json", b'"aap.voucher.v1"', "voucher", Refused, "1-3")
    # Journals
    write(
        "xlsx/absurd-dimension.xlsx",
        workbook("A1:XFD1048576"),
        "journal",
        [200],
        "declares 17 billion cells, holds 36: read by what it holds",
    )
    write(
        "xlsx/far-column.xlsx",
        workbook("A1:L3", '<row r="4"><c r="XFD4" t="s"><v>0</v></c></row>'),
        "journal",
        [413],
        "a cell in column 16384: over the column limit",
    )
    write(
        "xlsx/far-row.xlsx",
        workbook("A1:L3", '<row r="1048576"><c r="A1048576" t="s"><v>0</v></c></row>'),
        "journal",
        [413],
        "a row a million rows down: over the row limit",
    )
    write(
        "xlsx/not-a-workbook.xlsx",
        zipped([("hello.txt", b"hi")]),
        "journal",
        Refused,
        "3-1 not a workbook",
    )
    write(
        "csv/huge-field.csv",
        (JOURNAL.splitlines()[0] + "\n" + '"' + "摘" * 200_000 + '"\n').encode(),
        "journal",
        Refused,
        "3-1 a field beyond the CSV reader's limit",
    )
    write("csv/binary.csv", bytes(range(256)) * 64, "journal", Refused, "3-1, 2-4")
    # Archive packages
    write(
        "zip/duplicate-names.zip",
        zipped([("manifest.json", b"{}"), ("v/a.json", b"{}"), ("v/a.json", b"{}")]),
        "package",
        Refused,
        "an entry twice: which one is read is up to the reader",
    )
    write(
        "zip/climbs-out.zip",
        zipped([("manifest.json", b"{}"), ("../../etc/cron.d/x", b"boom")]),
        "package",
        Refused,
        "a name climbing out of the package",
    )
    write(
        "zip/bomb.zip",
        zipped([("manifest.json", b"{}"), ("zeros", bytes(20_000_000))]),
        "package",
        Refused,
        "a zip bomb",
    )
    write("zip/not-a-zip.zip", b"%PDF-1.4 a pdf", "package", Refused, "not a zip")
    # A material (第六条: a ledger, a report…): its description, and a file of a good one.
    statement = json.loads((SAMPLES / "materials" / "2025-03-duizhangdan-1002.json").read_text())
    write(
        "material/bomb.xlsx",
        zipped(
            [("[Content_Types].xml", b"<Types/>"), ("xl/worksheets/sheet1.xml", bytes(20_000_000))]
        ),
        "material-file",
        Refused,
        "3-4 a spreadsheet bomb, refused before it is inflated",
    )
    write("material/not-a-pdf.pdf", b"PK\x03\x04 a zip", "material-file", Refused, "1-10")
    write("material/deep.json", b"{" * 100_000, "material", Refused, "3-1")
    write(
        "material/voucher-kind.json",
        json.dumps(statement | {"kind": "bookkeeping_voucher"}).encode(),
        "material",
        Refused,
        "1-4 a voucher is uploaded as a voucher, not as a material",
    )
    write(
        "material/statement-without-account.json",
        json.dumps({k: v for k, v in statement.items() if k != "bank_account"}).encode(),
        "material",
        Refused,
        "1-4 a bank statement names its account",
    )
    write(
        "material/months-reversed.json",
        json.dumps(statement | {"period_from": 12, "period_to": 1}).encode(),
        "material",
        Refused,
        "1-4 period_from after period_to",
    )
    (HERE / "expected.json").write_text(
        json.dumps(EXPECTED, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
