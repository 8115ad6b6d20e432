"""Printouts (版式文件) of e-invoices: the text of a PDF or OFD, to tell which invoice it shows.

The signed XML is the original; a PDF or OFD beside it showing the same invoice number is its
printout, linked to it. OFD (GB/T 33190) is a zip whose pages' ``Content.xml`` hold the text in
``TextCode`` elements; it is opened within zip limits and its XML parsed safely.
"""

from __future__ import annotations

import zipfile

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from ingest.domain.einvoice import XmlProblem, local_name, read_xml
from ingest.domain.package import PackageError, PackageLimits, open_zip, read_entry

OFD_LIMITS = PackageLimits(
    max_entries=2_000,
    max_entry_bytes=20 * 1024 * 1024,
    max_total_bytes=100 * 1024 * 1024,
    max_ratio=200,
)


def pdf_text(reader: PdfReader) -> str:
    """The first page's text ('' if it cannot be extracted): where an invoice printout shows
    its number and total."""
    try:
        return reader.pages[0].extract_text() or ""
    except (PdfReadError, ValueError, KeyError):
        return ""


def open_ofd(data: bytes) -> zipfile.ZipFile:
    """The OFD package, once it is a zip within limits whose OFD.xml parses; PackageError if not."""
    package = open_zip(data, OFD_LIMITS)
    if "OFD.xml" not in package.namelist():
        raise PackageError("OFD package has no OFD.xml entry")
    try:
        read_xml(read_entry(package, package.getinfo("OFD.xml"), OFD_LIMITS))
    except XmlProblem as problem:
        raise PackageError(f"OFD.xml: {problem}") from problem
    return package


def ofd_text(package: zipfile.ZipFile) -> str:
    """The text of every page of an OFD package ('' where a page cannot be read)."""
    texts: list[str] = []
    for info in package.infolist():
        if "/Pages/" not in info.filename or not info.filename.endswith("Content.xml"):
            continue
        try:
            page = read_xml(read_entry(package, info, OFD_LIMITS))
        except (XmlProblem, PackageError):
            continue
        texts += [el.text or "" for el in page.iter() if local_name(el.tag) == "TextCode"]
    return "\n".join(texts)
