"""What a borrower sees and takes away, made in the archive's worker pool (a crafted original gets
no more time or memory than the pool allows):

- a page of an original rendered as an image with the watermark drawn over it (查阅): a PDF's
  page by PDFium, a structured file (XML, JSON) as its text, paged (an OFD or a workbook not
  yet: said so);
- a copy (复制): a PDF with the watermark added as a stamp annotation in an incremental update —
  the bytes before it, and any signature over them, unchanged, so the signed revision still
  verifies — or, for any other format, a zip of the original and a manifest naming the same.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import string
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pypdfium2 as pdfium
from fontTools import subset, ttLib
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from archive.domain.watermark import HEADINGS, Copy, NotRenderable, Page, Watermark
from servicekit.workers import LimitExceeded, WorkerFailed, WorkerPool

MAX_SIDE = 1600  # pixels: a page rendered at most this long (A4 at about 190 dpi)
TEXT_LINES, TEXT_WIDTH, TEXT_SIZE = 56, 1030, 22  # a structured file's text: lines a page, px
TEXT_TYPES = frozenset({"application/xml", "text/xml", "application/json", "text/csv"})
RED = (190, 20, 20)
T = TypeVar("T")


def render_page(media_type: str, data: bytes, number: int, mark: Watermark, font: str) -> Page:
    """Page ``number`` (from 1) of the original, watermarked, as PNG."""
    pages, count = _pages(media_type, data, font)
    if not 1 <= number <= count:
        raise NotRenderable(f"the original has {count} page(s); there is no page {number}")
    image = _watermarked(pages(number - 1), mark, font)
    out = io.BytesIO()
    info = PngInfo()
    info.add_itxt("AAP-Watermark", mark.text())
    image.save(out, format="PNG", pnginfo=info, compress_level=3)  # quicker, a little larger
    return Page(out.getvalue(), count)


def _pages(media_type: str, data: bytes, font: str) -> tuple[Callable[[int], Image.Image], int]:
    """(the i-th page as an RGB image, how many pages there are)."""
    if media_type == "application/pdf":
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as error:
            raise NotRenderable(f"the PDF cannot be rendered ({error})") from None

        def pdf_page(i: int) -> Image.Image:
            page = document[i]
            width, height = page.get_size()
            scale = min(2.0, MAX_SIDE / max(width, height, 1))
            image: Image.Image = page.render(scale=scale).to_pil()
            return image.convert("RGB")

        return pdf_page, len(document)
    if media_type in TEXT_TYPES:
        face = ImageFont.truetype(font, TEXT_SIZE, index=0)
        lines = _text_lines(data, face)
        count = max(1, math.ceil(len(lines) / TEXT_LINES))
        return (lambda i: _text_page(lines[i * TEXT_LINES : (i + 1) * TEXT_LINES], face)), count
    raise NotRenderable(
        f"an original of type {media_type} cannot be shown as pages yet: a 复制 (copy) "
        "borrowing hands out a marked copy of it"
    )


def _text_lines(data: bytes, face: ImageFont.FreeTypeFont) -> list[str]:
    """The text (UTF-8, or GB18030 as intake accepts it) in lines that fit the page's width as
    set in ``face``: a line of Chinese takes about twice the room of one of Latin letters."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030", errors="replace")
    widths: dict[str, float] = {}
    lines = []
    for line in text.splitlines():
        start, used = 0, 0.0
        for i, char in enumerate(line):
            width = widths.get(char) or widths.setdefault(char, face.getlength(char))
            if used + width > TEXT_WIDTH and i > start:
                lines.append(line[start:i])
                start, used = i, 0.0
            used += width
        lines.append(line[start:])
    return lines


def _text_page(lines: list[str], face: ImageFont.FreeTypeFont) -> Image.Image:
    page = Image.new("RGB", (1130, MAX_SIDE), "white")
    draw = ImageDraw.Draw(page)
    for n, line in enumerate(lines):
        draw.text((50, 60 + n * (TEXT_SIZE + 4)), line, fill="black", font=face)
    return page


def _watermarked(page: Image.Image, mark: Watermark, font: str) -> Image.Image:
    """The page with the watermark tiled across it, faint and aslant, and printed in full
    along its foot. The slanted text is drawn once, as a tile, and stamped across the page."""
    width, height = page.size
    size = max(14, width // 60)
    face = ImageFont.truetype(font, size, index=0)
    text = "   ".join(mark.lines())
    left, top, right, bottom = (int(v) for v in face.getbbox(text))
    tile = Image.new("RGBA", (right - left + size * 4, bottom - top + size * 4), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text((size * 2 - left, size * 2 - top), text, fill=(*RED, 48), font=face)
    tile = tile.rotate(30, expand=True)
    marked = page.convert("RGBA")
    step_x, step_y = tile.width // 2, max(size * 5, tile.height // 4)
    for row, y in enumerate(range(-tile.height // 2, height, step_y)):
        for x in range(-tile.width + (row % 3) * step_x // 3, width, step_x):
            _paste(marked, tile, x, y)
    band = size * 3 + 8
    foot = ImageDraw.Draw(marked)
    foot.rectangle((0, height - band, width, height), fill=(255, 255, 255, 255))
    for n, line in enumerate(mark.lines()):
        foot.text((8, height - band + 4 + n * (size + 6)), line, fill=(*RED, 255), font=face)
    return marked.convert("RGB")


def _paste(page: Image.Image, tile: Image.Image, x: int, y: int) -> None:
    """``tile`` composited at (x, y), where it may begin left of or above the page."""
    cut = tile.crop((max(0, -x), max(0, -y), tile.width, tile.height))
    page.alpha_composite(cut, (max(0, x), max(0, y)))


def marked_copy(filename: str, media_type: str, data: bytes, mark: Watermark, font: str) -> Copy:
    """The copy a 复制 borrower downloads."""
    if media_type == "application/pdf":
        return Copy(_copy_name(filename), media_type, _stamped_pdf(data, mark, font))
    manifest = {
        "copy_of": filename,
        "media_type": media_type,
        "sha256": hashlib.sha256(data).hexdigest(),
        "archive_code": mark.archive_code,
        "watermark": mark.text(),
        "note": "复制件：不作原件使用 (a copy, not the original)",
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        package.writestr(filename.replace("/", "_").replace("\\", "_"), data)
    return Copy(_copy_name(filename) + ".zip", "application/zip", out.getvalue())


def _copy_name(filename: str) -> str:
    stem, dot, suffix = filename.rpartition(".")
    return f"{stem}-复制件.{suffix}" if dot and stem else f"{filename}-复制件"


def _stamped_pdf(data: bytes, mark: Watermark, font: str) -> bytes:
    """A stamp annotation on each page, its appearance the watermark set in the CJK font
    (embedded, subset): an incremental update, so the original bytes come first, unchanged."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    if writer.prev.encrypted:
        raise NotRenderable("the PDF is encrypted: no marked copy can be made of it")
    width, height = 330.0, 34.0
    stamp = PdfFileReader(io.BytesIO(_stamp_box(mark, font, width, height)), strict=False)
    appearance = writer.import_page_as_xobject(stamp, 0)
    for index in range(int(writer.root["/Pages"]["/Count"])):
        page_ref, _ = writer.find_page_for_modification(index)
        page = page_ref.get_object()
        x0, y0 = (float(v) for v in list(page.get("/MediaBox", [0, 0, 595, 842]))[:2])
        rect = (x0 + 12, y0 + 12, x0 + 12 + width, y0 + 12 + height)
        added = writer.add_object(
            generic.DictionaryObject(
                {
                    generic.NameObject("/Type"): generic.NameObject("/Annot"),
                    generic.NameObject("/Subtype"): generic.NameObject("/Stamp"),
                    generic.NameObject("/Rect"): generic.ArrayObject(
                        map(generic.FloatObject, rect)
                    ),
                    generic.NameObject("/F"): generic.NumberObject(4 | 128),  # printed, locked
                    generic.NameObject("/Contents"): generic.TextStringObject(mark.text()),
                    generic.NameObject("/AP"): generic.DictionaryObject(
                        {generic.NameObject("/N"): appearance}
                    ),
                    generic.NameObject("/P"): page_ref,
                }
            )
        )
        held = page.raw_get("/Annots") if "/Annots" in page else None
        if isinstance(held, generic.IndirectObject):
            held.get_object().append(added)
            writer.mark_update(held)
        else:
            page[generic.NameObject("/Annots")] = generic.ArrayObject([*(held or []), added])
            writer.mark_update(page_ref)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _stamp_box(mark: Watermark, font: str, width: float, height: float) -> bytes:
    """The stamp's appearance as a one-page PDF of its size (fpdf2 embeds the font's subset)."""
    pdf = FPDF(unit="pt", format=(width, height))
    pdf.set_margin(0)
    pdf.set_auto_page_break(False)
    if set(mark.text()) <= STAMP_CHARACTERS:
        pdf.add_font("cjk", fname=_stamp_font(font))
    else:  # a reader named in characters beyond the stamp's own: the whole font
        pdf.add_font("cjk", fname=font, collection_font_number=0)
    pdf.add_page()
    pdf.set_draw_color(*RED)
    pdf.set_text_color(*RED)
    pdf.rect(0.5, 0.5, width - 1, height - 1)
    pdf.set_font("cjk", size=8)
    for n, line in enumerate(mark.lines()):
        pdf.set_xy(4, 4 + n * 13)
        pdf.cell(width - 8, 12, line)
    return bytes(pdf.output())


# What a stamp says besides the reader's name: its headings, the times and ids, in ASCII.
STAMP_CHARACTERS = frozenset("".join(HEADINGS.values()) + "授权依职权" + string.printable + "·—")


@functools.cache
def _stamp_font(font: str) -> str:
    """The CJK font cut to ``STAMP_CHARACTERS``, once per worker process: fpdf2 parses and
    subsets the whole collection (megabytes) for every PDF it makes, a quarter of a second."""
    collection = ttLib.TTFont(font, fontNumber=0)
    cutter = subset.Subsetter()
    cutter.populate(text="".join(STAMP_CHARACTERS))
    cutter.subset(collection)
    path = Path(tempfile.mkdtemp(prefix="aap-stamp-font-")) / "stamp.ttf"
    collection.save(path)
    return str(path)


class PooledRenditions:
    """``render_page`` and ``marked_copy`` run in the archive's worker pool, set in ``font``."""

    def __init__(self, pool: WorkerPool, font: str) -> None:
        self._pool = pool
        self._font = font

    async def page(self, media_type: str, data: bytes, number: int, mark: Watermark) -> Page:
        return await self._run("the page cannot be rendered", render_page, media_type, data,
                               number, mark, self._font)  # fmt: skip

    async def copy(self, filename: str, media_type: str, data: bytes, mark: Watermark) -> Copy:
        return await self._run("no marked copy can be made", marked_copy, filename, media_type,
                               data, mark, self._font)  # fmt: skip

    async def _run(self, failing: str, fn: Callable[..., T], *args: object) -> T:
        try:
            return await self._pool.run(fn, *args)
        except WorkerFailed as error:
            if error.kind == NotRenderable.__name__:  # the reason, as the worker gave it
                raise NotRenderable(error.message) from error
            raise NotRenderable(f"{failing}: {error}") from error
        except LimitExceeded as error:
            raise NotRenderable(f"{failing}: {error}") from error
