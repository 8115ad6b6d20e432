"""A register (清册) as the files it is kept as: a PDF to read (its CJK font embedded, subset) and
an XLSX to work with. Both depend only on the register and the time given: asked again, the
same bytes, the same SHA-256 — what was archived can be made again and compared."""

from __future__ import annotations

import asyncio
import io
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from servicekit.exports import Register, as_xlsx

MODIFIED = re.compile(rb"<dcterms:modified([^>]*)>[^<]*</dcterms:modified>")


class RegisterFiles:
    def __init__(self, font: Path) -> None:
        self._font = font

    async def render(self, register: Register, at: datetime) -> tuple[bytes, bytes]:
        """(PDF, XLSX) of ``register``, dated ``at``."""
        return await asyncio.to_thread(self._render, register, at)

    def _render(self, register: Register, at: datetime) -> tuple[bytes, bytes]:
        return register_pdf(register, at, self._font), register_xlsx(register, at)


def register_pdf(register: Register, at: datetime, font: Path) -> bytes:
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_creation_date(at)
    pdf.set_title(register.heading)
    pdf.set_creator("AAP archive")
    pdf.add_font("cjk", fname=str(font), collection_font_number=0)
    pdf.add_page()
    pdf.set_font("cjk", size=14)
    pdf.cell(0, 10, register.heading, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=8)
    widths = tuple(width for _, width in register.columns)
    with pdf.table(col_widths=widths, headings_style=FontFace(emphasis=None)) as table:
        table.row([name for name, _ in register.columns])
        for values in register.rows:
            table.row(["" if v is None else str(v) for v in values])
    pdf.ln(4)
    for line in register.footer:
        text = "  ".join("" if v is None else str(v) for v in line)
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def register_xlsx(register: Register, at: datetime) -> bytes:
    """The workbook, its properties and every zip entry dated ``at`` (openpyxl dates the
    workbook's last change to the moment it saves: set back here)."""
    workbook = as_xlsx(register, at=at)
    utc = at.astimezone(UTC)
    stamp = utc.timetuple()[:6]
    modified = f"<dcterms:modified\\1>{utc:%Y-%m-%dT%H:%M:%SZ}</dcterms:modified>".encode()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(workbook)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as fixed,
    ):
        for entry in source.infolist():
            dated = zipfile.ZipInfo(entry.filename, date_time=stamp)
            dated.compress_type = zipfile.ZIP_DEFLATED
            data = source.read(entry)
            if entry.filename == "docProps/core.xml":
                data = MODIFIED.sub(modified, data)
            fixed.writestr(dated, data)
    return out.getvalue()
