"""OFD attachments (GB/T 33190, the national fixed-layout format): a zip whose pages'
``Content.xml`` hold the text in ``TextCode`` elements. Opened within zip limits, its XML parsed
safely; what is read is whether it opens, its encryption and compression, and its text."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

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
        read_xml(read_entry(package, package.getinfo("OFD.xml"), OFD_LIMITS))
    except XmlProblem as problem:
        return OfdRead(f"OFD.xml: {problem}", signed=signed)
    except PackageError as problem:
        return OfdRead(str(problem), signed=signed)
    return OfdRead(None, text=_text(package), signed=signed)


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
