"""Whether an archived original can still be opened by a reader of its format (DA/T 70 3-4, as
kept). Run in the archive's worker pool: the bytes passed intake, yet a reader is given no more
time or memory than the pool allows.

Shallower than intake's parsers on purpose: this asks only "does it open", and the version of
the reader may have changed since (which is what a re-check is for).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Awaitable, Callable

import defusedxml.ElementTree as safe_xml
from pypdf import PdfReader

from contracts.formats import XLSX
from servicekit.workers import LimitExceeded, WorkerFailed, WorkerPool

XML_TYPES = frozenset({"application/xml", "text/xml"})
MAX_ENTRY_BYTES = 50 * 1024 * 1024  # as intake's package limit: a zip entry read no further


def unreadable(media_type: str, data: bytes) -> str | None:
    """Why ``data`` cannot be read as ``media_type``; None if it can (or no reader applies)."""
    try:
        if media_type == "application/pdf":
            reader = PdfReader(io.BytesIO(data))
            if not reader.is_encrypted and len(reader.pages) == 0:
                return "the PDF has no page"
        elif media_type in XML_TYPES:
            safe_xml.fromstring(data, forbid_dtd=True)
        elif media_type == "application/ofd":
            with zipfile.ZipFile(io.BytesIO(data)) as package, package.open("OFD.xml") as entry:
                safe_xml.fromstring(entry.read(MAX_ENTRY_BYTES), forbid_dtd=True)
        elif media_type == XLSX:
            with zipfile.ZipFile(io.BytesIO(data)) as package:
                if "[Content_Types].xml" not in package.namelist():
                    return "the workbook has no [Content_Types].xml"
        elif media_type == "application/json":
            json.loads(_text(data))
    except Exception as error:  # each reader raises its own types for a broken file
        return f"cannot be read as {media_type} ({type(error).__name__}: {error})"
    return None


def reader_in(pool: WorkerPool) -> Callable[[str, bytes], Awaitable[str | None]]:
    """``unreadable`` run in ``pool``: a file over the pool's limits is unreadable, saying so."""

    async def read(media_type: str, data: bytes) -> str | None:
        try:
            return await pool.run(unreadable, media_type, data)
        except (LimitExceeded, WorkerFailed) as error:
            return str(error)

    return read


def _text(data: bytes) -> str:
    """A JSON export as intake accepted it: UTF-8 (with or without a BOM), or GB18030."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")
