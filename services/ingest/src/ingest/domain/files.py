"""An uploaded file as intake sees it, and the formats accepted for attachments."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass

ACCEPTED_ATTACHMENT_TYPES = frozenset(
    {"application/pdf", "application/xml", "text/xml", "application/ofd"}
)
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ATTACHMENTS = 50


@dataclass(frozen=True)
class UploadedFile:
    role: str  # "voucher" or "attachment"
    filename: str
    media_type: str
    data: bytes


def media_type_of(filename: str, declared: str | None) -> str:
    """The type by the file's name (what the archive will call it), else as declared."""
    if filename.lower().endswith(".ofd"):
        return "application/ofd"
    guessed, _ = mimetypes.guess_type(filename)
    return guessed or declared or "application/octet-stream"
