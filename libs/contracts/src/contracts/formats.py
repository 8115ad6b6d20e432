"""How a file's first bytes show its format: the formats the platform accepts, told by content.

Ingest checks this at intake (DA/T 70 item 1-3) and the archive again over what it keeps (1-10),
so both must agree on what a PDF, an OFD or an XML file looks like.
"""

from __future__ import annotations

import re
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


# The versions of each format the archive keeps for the long term: 版式 files as PDF or OFD
# (GB/T 33190), structured data as XML or JSON, ledgers also as workbooks. What 3-5 judges a
# file's recorded environment (its format and version) against.
PRESERVED_VERSIONS: Mapping[str, frozenset[str]] = {
    "PDF": frozenset({"1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "2.0"}),
    "XML": frozenset({"1.0", "1.1"}),
    "OFD": frozenset({""}),  # GB/T 33190-2016; the container does not say its version
    "XLSX": frozenset({""}),  # ECMA-376 (Office Open XML), likewise
    "JSON": frozenset({""}),  # RFC 8259: a voucher export or a description
}
_FORMAT_NAMES = {
    "application/pdf": "PDF",
    "application/ofd": "OFD",
    XLSX: "XLSX",
    "application/xml": "XML",
    "text/xml": "XML",
    "application/json": "JSON",
}
_XML_VERSION = re.compile(rb"""^<\?xml\s+version\s*=\s*["']([0-9.]+)["']""")
_PDF_VERSION = re.compile(rb"^%PDF-([0-9]\.[0-9])")


def format_of(media_type: str, data: bytes) -> str:
    """A file's format and version as its own bytes say (DA/T 46 格式信息): "PDF 1.7", "XML 1.0",
    "OFD"; "" for a type the platform does not tell apart. The archive records it at accession
    and compares it as kept (1-10)."""
    name = _FORMAT_NAMES.get(media_type)
    if name is None or type_problem(media_type, data):
        return ""
    version = b""
    if name == "PDF" and (m := _PDF_VERSION.match(data)):
        version = m.group(1)
    elif name == "XML":
        m = _XML_VERSION.match(_text_head(data))
        version = m.group(1) if m else b"1.0"  # no declaration: XML 1.0 (XML 1.1 §2.8)
    return f"{name} {version.decode()}".strip()


def preserved(fmt: str) -> bool:
    """Whether a format and version (``format_of``) is one the archive keeps for the long term."""
    name, _, version = fmt.partition(" ")
    return version in PRESERVED_VERSIONS.get(name, frozenset())
