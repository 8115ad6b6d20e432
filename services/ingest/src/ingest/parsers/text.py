"""Text files from Chinese ERPs: UTF-8 (with or without a byte-order mark) or GB18030."""

from __future__ import annotations

from contracts.checks import CHECK_3_1
from ingest.parsers.findings import ExportError, Finding


def decode_text(raw: bytes, what: str = "voucher") -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ExportError([Finding(CHECK_3_1, what, "file is neither UTF-8 nor GB18030 text")])
