"""How a file's first bytes show its format: the formats the platform accepts, told by content.

Ingest checks this at intake (DA/T 70 item 1-3) and the archive again over what it keeps (1-10),
so both must agree on what a PDF, an OFD or an XML file looks like.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    name: str
    starts_with: tuple[bytes, ...]  # after a byte-order mark and white space where ``text``
    text: bool = False


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

FORMATS: Mapping[str, Format] = {
    "application/pdf": Format("PDF", (b"%PDF-",)),
    "application/ofd": Format("OFD (zip) package", (b"PK\x03\x04",)),
    "application/zip": Format("zip package", (b"PK\x03\x04",)),
    XLSX: Format("Excel workbook (zip)", (b"PK\x03\x04",)),
    "application/xml": Format("XML document", (b"<",), text=True),
    "text/xml": Format("XML document", (b"<",), text=True),
    "application/json": Format("JSON document", (b"{", b"["), text=True),
}


def type_problem(media_type: str, data: bytes) -> str | None:
    """Why ``data`` cannot be of ``media_type``, judged by its first bytes; None if it can be.

    Types not in ``FORMATS`` (CSV, for one) have no signature and always pass.
    """
    fmt = FORMATS.get(media_type)
    if fmt is None:
        return None
    head = _text_head(data) if fmt.text else data
    if head.startswith(fmt.starts_with):
        return None
    return f"is of type {media_type} but its content is not a {fmt.name}"


def _text_head(data: bytes) -> bytes:
    """The first characters of a text file, as UTF-8, past any byte-order mark and white space."""
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[2:256].decode(codec, errors="ignore").lstrip().encode()
    return data.removeprefix(b"\xef\xbb\xbf").lstrip()
