"""OFD attachments (GB/T 33190, the national fixed-layout format): a zip whose pages'
``Content.xml`` hold the text in ``TextCode`` elements. Opened within zip limits, its XML parsed
safely; what is read is whether it opens, its encryption and compression, its text, and the
structured data an e-invoice OFD carries beside its pages (``ingest.parsers.ofd_invoice``):
``CustomData`` of ``OFD.xml``, the original invoice XML attached to it, and the fields of a
custom tag (自定义标引)."""

from __future__ import annotations

import io
import posixpath
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field

from ingest.parsers.ofd_invoice import TAGGED
from ingest.parsers.signatures import CheckedSignature
from ingest.parsers.xml import XmlProblem, local_name, read_xml
from ingest.parsers.zips import PackageError, PackageLimits, open_zip, read_entry

OFD_LIMITS = PackageLimits(
    max_entries=2_000,
    max_entry_bytes=20 * 1024 * 1024,
    max_total_bytes=100 * 1024 * 1024,
    max_ratio=200,
)


@dataclass(frozen=True)
class OfdRead:
    problem: str | None  # why it cannot be read; None if it can
    encrypted: bool = False  # an entry is encrypted
    private_compression: bool = False  # an entry uses a compression other than stored/deflate
    text: str = ""
    signed: bool = False  # carries Signatures.xml: fixity to verify
    signatures: tuple[CheckedSignature, ...] = ()  # each, as verified (ingest.parsers.sm2_verifier)
    # The document's structured data by field name (发票号码…): its CustomData, then what a
    # custom tag points at on its pages.
    fields: Mapping[str, str] = field(default_factory=dict)


def read_ofd(data: bytes) -> OfdRead:
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        return OfdRead(f"not an OFD package: {error}")
    encrypted = any(i.flag_bits & 0x1 for i in infos)
    private = any(i.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for i in infos)
    signed = any(i.filename.endswith("Signatures.xml") for i in infos)
    if encrypted or private:
        return OfdRead(None, encrypted, private, signed=signed)
    try:
        package = open_zip(data, OFD_LIMITS)
        if "OFD.xml" not in package.namelist():
            raise PackageError("OFD package has no OFD.xml entry")
        root = read_xml(read_entry(package, package.getinfo("OFD.xml"), OFD_LIMITS))
    except XmlProblem as problem:
        return OfdRead(f"OFD.xml: {problem}", signed=signed)
    except PackageError as problem:
        return OfdRead(str(problem), signed=signed)
    if signed and (unsafe := _unsafe_xml(package)):
        return OfdRead(unsafe, signed=signed)
    # CustomData wins, then the attached original invoice, then a custom tag
    fields = {**_tagged(package, root), **_attached(package), **_custom_data(root)}
    return OfdRead(None, text=_text(package), signed=signed, fields=fields)


def _unsafe_xml(package: zipfile.ZipFile) -> str | None:
    """Why one of a signed package's XML entries may not be handed to the seal verifier (a DTD,
    an entity, malformed), or None: the verifier parses them all, with a parser of its own."""
    for info in package.infolist():
        if info.filename.lower().endswith(".xml"):
            try:
                read_xml(read_entry(package, info, OFD_LIMITS))
            except (XmlProblem, PackageError) as problem:
                return f"{info.filename}: {problem}"
    return None


def _children(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el if local_name(c.tag) == name]


def _first_body(root: ET.Element) -> ET.Element | None:
    return next(iter(_children(root, "DocBody")), None)


def _custom_data(root: ET.Element) -> dict[str, str]:
    """The first document's ``DocInfo`` ``CustomData`` by name (in ``CustomDatas`` or not)."""
    body = _first_body(root)
    info = next(iter(_children(body, "DocInfo")), None) if body is not None else None
    if info is None:
        return {}
    return {
        name: (el.text or "").strip()
        for el in info.iter()
        if local_name(el.tag) == "CustomData" and (name := el.get("Name", "").strip())
    }


def _attached(package: zipfile.ZipFile) -> dict[str, str]:
    """The fields of the original invoice XML an older e-invoice OFD carries as an attachment
    (``original_invoice.xml``: InvoiceNo, IssueDate, Buyer/BuyerTaxID…, the custom tag's
    names); {} where there is none or it cannot be read."""
    for info in package.infolist():
        if posixpath.basename(info.filename).startswith("original_invoice") and (
            info.filename.endswith(".xml")
        ):
            try:
                attached = read_xml(read_entry(package, info, OFD_LIMITS))
            except (XmlProblem, PackageError):
                return {}
            return {
                name: (el.text or "").strip()
                for el in attached.iter()
                if (name := TAGGED.get(local_name(el.tag))) and (el.text or "").strip()
            }
    return {}


def _tagged(package: zipfile.ZipFile, root: ET.Element) -> dict[str, str]:
    """The fields of an ``eInvoice`` custom tag, each the text of the page objects it points at
    (``ObjectRef PageRef`` → the page's ``TextObject ID``). {} where there is none or it does
    not resolve."""
    body = _first_body(root)
    doc_root = next(iter(_children(body, "DocRoot")), None) if body is not None else None
    try:
        document_path = _entry(None, doc_root.text if doc_root is not None else None)
        document = _xml(package, document_path)
        tags_loc = next((e.text for e in document.iter() if local_name(e.tag) == "CustomTags"), "")
        tags_path = _entry(document_path, tags_loc)
        tag_files = [
            _entry(tags_path, e.text)
            for e in _xml(package, tags_path).iter()
            if local_name(e.tag) == "FileLoc"
        ]
        pages = {
            p.get("ID", ""): _entry(document_path, p.get("BaseLoc"))
            for p in document.iter()
            if local_name(p.tag) == "Page" and p.get("BaseLoc")
        }
        for tag_file in tag_files:
            tag = _xml(package, tag_file)
            if local_name(tag.tag) == "eInvoice":
                return _resolved(package, tag, pages)
    except (XmlProblem, PackageError, KeyError):
        pass
    return {}


def _resolved(
    package: zipfile.ZipFile, tag: ET.Element, pages: Mapping[str, str]
) -> dict[str, str]:
    texts: dict[str, dict[str, str]] = {}  # page path → text object id → its text

    def objects(page: str) -> dict[str, str]:
        if page not in texts:
            content = _xml(package, page)
            texts[page] = {
                o.get("ID", ""): "".join(
                    c.text or "" for c in o.iter() if local_name(c.tag) == "TextCode"
                )
                for o in content.iter()
                if local_name(o.tag) == "TextObject"
            }
        return texts[page]

    fields = {}
    for el in tag.iter():
        name = TAGGED.get(local_name(el.tag))
        refs = _children(el, "ObjectRef")
        if name and refs:
            fields[name] = "".join(
                objects(pages[r.get("PageRef", "")]).get((r.text or "").strip(), "") for r in refs
            ).strip()
    return fields


def _entry(base: str | None, loc: str | None) -> str:
    """The zip entry a location names: absolute (from the package root), or relative to the
    folder of ``base``. A location climbing out of the package names nothing."""
    if not loc:
        raise PackageError("no location")
    loc = loc.strip()
    folder = posixpath.dirname(base) if base and not loc.startswith("/") else ""
    path = posixpath.normpath(posixpath.join(folder, loc.lstrip("/")))
    if path.startswith(".."):
        raise PackageError(f"{loc} is outside the package")
    return path


def _xml(package: zipfile.ZipFile, path: str) -> ET.Element:
    return read_xml(read_entry(package, package.getinfo(path), OFD_LIMITS))


def _text(package: zipfile.ZipFile) -> str:
    """The text of every page ('' where a page cannot be read)."""
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
