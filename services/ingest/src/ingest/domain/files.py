"""An upload as intake sees it: the formats accepted for attachments, and how many and how large."""

from __future__ import annotations

import mimetypes

from contracts.formats import XLSX
from ingest.parsers.files import UploadedFile

__all__ = [
    "ACCEPTED_ATTACHMENT_TYPES",
    "ACCEPTED_MATERIAL_TYPES",
    "MAX_ATTACHMENTS",
    "MAX_FILE_BYTES",
    "UploadedFile",
]

ACCEPTED_ATTACHMENT_TYPES = frozenset(
    {"application/pdf", "application/xml", "text/xml", "application/ofd"}
)
# A material (a ledger, a report) is often an Excel export as well.
ACCEPTED_MATERIAL_TYPES = ACCEPTED_ATTACHMENT_TYPES | {XLSX}
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ATTACHMENTS = 50


def media_type_of(filename: str, declared: str | None) -> str:
    """The type by the file's name (what the archive will call it), else as declared."""
    if filename.lower().endswith(".ofd"):
        return "application/ofd"
    guessed, _ = mimetypes.guess_type(filename)
    return guessed or declared or "application/octet-stream"
