"""Writes the sample 数电票 PDF printouts in ``samples/attachments``, laid out with the labels
a real one carries: 电子发票（增值税专用发票）, 发票号码, 开票日期, 购买方信息 and 销售方信息 with
名称 and 统一社会信用代码/纳税人识别号, 合计, 价税合计（大写）and（小写）, 开票人; the CJK
font embedded.

    python -m devkit.sample_invoices                                  (make samples)

The labels follow the published field lists of 全电发票 printouts (发票号码, 开票日期,
购买方名称, 购买方纳税人识别号, 销售方名称, 销售方纳税人识别号, 合计金额, 合计税额,
价税合计(大写), 价税合计(小写), 开票人). A real printout also carries a QR code and the tax
bureau's seal, which these samples do not. The output is the same bytes for the same invoice (a
fixed creation date): re-running leaves git clean.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

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


if __name__ == "__main__":
    main()
