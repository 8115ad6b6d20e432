"""Writes the sample 数电票 PDF printouts and OFD, and a bank e-receipt, in
``samples/attachments``. A PDF is laid out
with the labels a real one carries: 电子发票（增值税专用发票）, 发票号码, 开票日期, 购买方信息
and 销售方信息 with 名称 and 统一社会信用代码/纳税人识别号, 合计, 价税合计（大写）and（小写）,
开票人; the CJK font embedded. The OFD carries its fields as 数电票 OFDs seen in the wild do
(``CustomData`` in ``OFD.xml``), or as a custom tag (``ofd``).

    python -m devkit.sample_invoices                                  (make samples)

The labels follow the published field lists of 全电发票 printouts (发票号码, 开票日期,
购买方名称, 购买方纳税人识别号, 销售方名称, 销售方纳税人识别号, 合计金额, 合计税额,
价税合计(大写), 价税合计(小写), 开票人). A real printout also carries a QR code and the tax
bureau's seal, which these samples do not. The output is the same bytes for the same invoice (a
fixed creation date): re-running leaves git clean.
"""

from __future__ import annotations

import io
import sys
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape

from fpdf import FPDF

from devkit.samples import SAMPLES

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")  # Debian's fonts-wqy-microhei


@dataclass(frozen=True)
class Printout:
    number: str
    issued: str  # YYYY-MM-DD
    kind: str  # 增值税专用发票, 普通发票
    buyer: tuple[str, str]  # name, tax id
    seller: tuple[str, str]
    item: str
    amount: Decimal
    rate: str  # "13%"
    tax: Decimal
    drawer: str

    @property
    def total(self) -> Decimal:
        return self.amount + self.tax


SAMPLE_PRINTOUTS = {
    "einvoice-25312000000087654321.pdf": Printout(
        number="25312000000087654321",
        issued="2025-03-11",
        kind="增值税专用发票",
        buyer=("上海澄明科技有限公司", "91310115MA1K4XYZ0P"),
        seller=("上海立信办公用品有限公司", "91310104MA1FL2QR3T"),
        item="*纸制品*打印纸 A4 ×10；*计算机配套产品*硒鼓 ×2",
        amount=Decimal("884.96"),
        rate="13%",
        tax=Decimal("115.04"),
        drawer="陈丽",
    ),
}
# 记-0001's 数电票 (its XML is einvoice-25312000000012345678.xml) as the OFD a hotel also sends.
SAMPLE_OFDS = {
    "einvoice-25312000000012345678.ofd": Printout(
        number="25312000000012345678",
        issued="2025-03-03",
        kind="普通发票",
        buyer=("上海澄明科技有限公司", "91310115MA1K4XYZ0P"),
        seller=("北京国贸嘉华酒店管理有限公司", "91110105MA01ABCD2X"),
        item="*住宿服务*住宿费",
        amount=Decimal("1207.55"),
        rate="6%",
        tax=Decimal("72.45"),
        drawer="刘芳",
    ),
}


def render(p: Printout, font: Path = FONT) -> bytes:
    """The printout's PDF: text in reading order, row by row, as a reader extracts it."""
    year, month, day = p.issued.split("-")
    return text_pdf(
        f"电子发票（{p.kind}）",
        f"发票号码：{p.number}",
        f"开票日期：{year}年{month}月{day}日",
        f"购买方信息 名称：{p.buyer[0]}    销售方信息 名称：{p.seller[0]}",
        f"统一社会信用代码/纳税人识别号：{p.buyer[1]}    "
        f"统一社会信用代码/纳税人识别号：{p.seller[1]}",
        "项目名称    金额    税率/征收率    税额",
        f"{p.item}    {p.amount}    {p.rate}    {p.tax}",
        f"合  计    ¥{p.amount}    ¥{p.tax}",
        f"价税合计（大写）{_in_words(p.total)}    （小写）¥{p.total}",
        f"开票人：{p.drawer}",
        font=font,
    )


# 记-0003's 银行电子回单: the customer's payment, as a bank prints one (its labels: 回单编号,
# 交易日期, 付款人/收款人 户名 and 账号, 金额（小写）). Sent signed by the bank in the demo.
RECEIPT_LINES = (
    "回单编号：20250320104411000102",
    "交易日期：2025年03月20日    交易类型：转账",
    "付款人户名：杭州禾木贸易有限公司",
    "付款人账号：3301 0400 0000 1234 567",
    "付款人开户行：中国工商银行杭州西湖支行",
    "收款人户名：上海澄明科技有限公司",
    "收款人账号：1001 2345 6789 0123 456",
    "收款人开户行：中国工商银行上海浦东支行",
    "金额（小写）：¥56,500.00",
    "金额（大写）：人民币伍万陆仟伍佰圆整",
    "摘要：货款    附言：2025年2月发货",
)
SAMPLE_RECEIPTS = {"bank-receipt-20250320-0004412.pdf": ("中国工商银行 电子回单", RECEIPT_LINES)}
# A 财政电子票据 the company paid a fee on: a 不动产登记费 to a public registry, as such bills
# print it (票据代码 8 digits, 票据号码 10, 交款人 and its credit code, 校验码, 金额合计).
FISCAL_BILL_LINES = (
    "票据代码：31060125    票据号码：0012345678",
    "交款人统一社会信用代码：91310115MA1K4XYZ0P    校验码：7c2e9a",
    "交款人：上海澄明科技有限公司    开票日期：2025-03-18",
    "项目编码    项目名称    单位    数量    标准    金额（元）    备注",
    "103040201    不动产登记费    件    1    80.00    80.00",
    "金额合计（大写）捌拾元整    （小写）80.00",
    "收款单位（章）：上海市浦东新区不动产登记事务中心    复核人：张敏    收款人：李华",
)
SAMPLE_FISCAL_BILLS = {
    "fiscal-bill-31060125-0012345678.pdf": ("上海市非税收入统一票据（电子）", FISCAL_BILL_LINES)
}
OFD_NS = "http://www.ofdspec.org/2016"
Carrier = Literal["custom_data", "custom_tag", "attachment"]


def ofd(p: Printout, carrier: Carrier = "custom_data") -> bytes:
    """The invoice as an OFD (GB/T 33190): its page's text objects, and its fields as the
    shapes e-invoice OFDs carry them: ``CustomData`` in ``OFD.xml`` (as 数电票 OFDs do, the
    date as 2025年03月11日), an ``eInvoice`` custom tag pointing at the page's text objects
    (自定义标引, as older e-invoice OFDs do), or the original invoice XML attached to the
    package (``Attachs/original_invoice.xml``, its fields as the custom tag's, Buyer and Seller
    grouped, as older e-invoice OFDs carry it). The same bytes for the same invoice."""
    year, month, day = p.issued.split("-")
    values = {  # text object id → (its text, the field it is)
        "11": (p.number, "InvoiceNo", "发票号码"),
        "12": (f"{year}年{month}月{day}日", "IssueDate", "开票日期"),
        "13": (p.buyer[0], "BuyerName", None),
        "14": (p.buyer[1], "BuyerTaxID", "购买方纳税人识别号"),
        "15": (p.seller[0], "SellerName", None),
        "16": (p.seller[1], "SellerTaxID", "销售方纳税人识别号"),
        "17": (f"{p.amount}", "TaxExclusiveTotalAmount", "合计金额"),
        "18": (f"{p.tax}", "TaxTotalAmount", "合计税额"),
        "19": (f"¥{p.total}", "TaxInclusiveTotalAmount", None),
    }
    labels = ["发票号码：", "开票日期：", "名称：", "统一社会信用代码/纳税人识别号：", "名称：",
              "统一社会信用代码/纳税人识别号：", "合  计 ¥", "¥", "（小写）"]  # fmt: skip

    def text_object(n: str, row: int, x: int, text: str) -> str:
        return (
            f'<ofd:TextObject ID="{n}" Boundary="{x} {10 + row * 8} 100 6" Font="1" Size="3.5">'
            f'<ofd:TextCode X="0" Y="3">{escape(text)}</ofd:TextCode></ofd:TextObject>'
        )

    # Each label an object of its own, its value the next: a custom tag points at the value.
    objects = [
        text_object(str(20 + row), row, 10, label) + text_object(n, row, 60, text)
        for row, (label, (n, (text, _, _))) in enumerate(zip(labels, values.items(), strict=True))
    ]
    title = (
        '<ofd:TextObject ID="10" Boundary="60 2 90 8" Font="1" Size="5">'
        f'<ofd:TextCode X="0" Y="5">电子发票（{p.kind}）</ofd:TextCode></ofd:TextObject>'
    )
    page = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{OFD_NS}"><ofd:Content>'
        f'<ofd:Layer ID="9">{title}{"".join(objects)}</ofd:Layer></ofd:Content></ofd:Page>'
    )
    data = "".join(
        f'<ofd:CustomData Name="{name}">{escape(text.lstrip("¥"))}</ofd:CustomData>'
        for text, _, name in values.values()
        if name
    )
    info = f"<ofd:DocID>{p.number}</ofd:DocID><ofd:CreationDate>{p.issued}</ofd:CreationDate>"
    if carrier == "custom_data":
        info += f"<ofd:CustomDatas>{data}</ofd:CustomDatas>"
    root = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="{OFD_NS}" Version="1.1" '
        f'DocType="OFD"><ofd:DocBody><ofd:DocInfo>{info}</ofd:DocInfo>'
        "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
    )
    tags = "<ofd:CustomTags>Tags/CustomTags.xml</ofd:CustomTags>" if carrier == "custom_tag" else ""
    document = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="{OFD_NS}">'
        "<ofd:CommonData><ofd:MaxUnitID>19</ofd:MaxUnitID><ofd:PageArea>"
        "<ofd:PhysicalBox>0 0 210 140</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData>"
        '<ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages>'
        f"{tags}</ofd:Document>"
    )
    entries = {"OFD.xml": root, "Doc_0/Document.xml": document,
               "Doc_0/Pages/Page_0/Content.xml": page}  # fmt: skip
    if carrier == "custom_tag":
        refs = "".join(
            f'<{tag}><ofd:ObjectRef PageRef="1">{n}</ofd:ObjectRef></{tag}>'
            for n, (_, tag, _) in values.items()
        )
        entries["Doc_0/Tags/CustomTags.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:CustomTags xmlns:ofd="{OFD_NS}">'
            '<ofd:CustomTag TypeID="invoice"><ofd:FileLoc>CustomTag.xml</ofd:FileLoc>'
            "</ofd:CustomTag></ofd:CustomTags>"
        )
        entries["Doc_0/Tags/CustomTag.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><eInvoice xmlns:ofd="{OFD_NS}">{refs}'
            "</eInvoice>"
        )
    if carrier == "attachment":
        fields = {tag: text.lstrip("¥") for text, tag, _ in values.values()}
        party = {"Buyer": ("BuyerName", "BuyerTaxID"), "Seller": ("SellerName", "SellerTaxID")}
        grouped = "".join(
            f"<{group}>"
            + "".join(f"<{t}>{escape(fields.pop(t))}</{t}>" for t in tags_)
            + f"</{group}>"
            for group, tags_ in party.items()
        )
        flat = "".join(f"<{t}>{escape(v)}</{t}>" for t, v in fields.items())
        entries["Doc_0/Attachs/original_invoice.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><eInvoice>{flat}{grouped}</eInvoice>'
        )
        entries["Doc_0/Attachs/Attachments.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Attachments xmlns:ofd="{OFD_NS}">'
            '<ofd:Attachment ID="1" Name="original_invoice" Format="xml">'
            "<ofd:FileLoc>original_invoice.xml</ofd:FileLoc></ofd:Attachment></ofd:Attachments>"
        )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, xml in entries.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0)), xml.encode())
    return out.getvalue()


def text_pdf(title: str, *lines: str, font: Path = FONT) -> bytes:
    """A one-page PDF with a title and lines of (CJK) text, the font embedded; the same bytes
    for the same text."""
    pdf = FPDF(orientation="landscape", format=(148, 210))  # A5
    pdf.set_creation_date(datetime(2025, 1, 1, tzinfo=UTC))
    pdf.set_creator("AAP sample invoices")
    pdf.add_font("cjk", fname=str(font), collection_font_number=0)
    pdf.add_page()
    pdf.set_font("cjk", size=14)
    pdf.cell(0, 9, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    for line in lines:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


DIGITS = "零壹贰叁肆伍陆柒捌玖"


def _in_words(amount: Decimal) -> str:
    """价税合计（大写） for the whole yuan amounts of the samples (e.g. 壹仟圆整)."""
    yuan = int(amount)
    if amount != yuan or not 0 < yuan < 10000:
        raise ValueError(f"the samples are whole yuan under 10000, not {amount}")
    words, zero = "", False
    for value, unit in ((1000, "仟"), (100, "佰"), (10, "拾"), (1, "")):
        digit, yuan = divmod(yuan, value)
        if digit:
            words += ("零" if zero else "") + DIGITS[digit] + unit
            zero = False
        elif words:
            zero = True
    return words + "圆整"


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLES / "attachments"
    for name, printout in SAMPLE_PRINTOUTS.items():
        (folder / name).write_bytes(render(printout))
        print(f"wrote {folder / name}")
    for name, printout in SAMPLE_OFDS.items():
        (folder / name).write_bytes(ofd(printout))
        print(f"wrote {folder / name}")
    for name, (title, lines) in {**SAMPLE_RECEIPTS, **SAMPLE_FISCAL_BILLS}.items():
        (folder / name).write_bytes(text_pdf(title, *lines))
        print(f"wrote {folder / name}")


if __name__ == "__main__":
    main()
