"""PDF attachments: whether they open, are encrypted, carry signatures (verified:
``ingest.parsers.signatures``), and what the first page says (where an e-invoice printout
(版式文件) shows its number and total)."""

from __future__ import annotations

import io
from dataclasses import dataclass, replace

from pypdf import PdfReader

from ingest.parsers.signatures import (
    CheckedSignature,
    SmVerifier,
    TrustAnchors,
    verify_pdf_signatures,
)


@dataclass(frozen=True)
class PdfRead:
    problem: str | None  # why it cannot be read; None if it can
    encrypted: bool = False
    pages: int = 0
    text: str = ""  # the first page's text, '' if it has none to extract
    signed: bool = False  # carries a signature field (/ByteRange): fixity to verify
    signatures: tuple[CheckedSignature, ...] = ()  # each, as verified


def read_pdf(
    data: bytes, anchors: TrustAnchors | None = None, sm2: SmVerifier | None = None
) -> PdfRead:
    signed = b"/ByteRange" in data
    if signed:
        signatures = verify_pdf_signatures(data, anchors or TrustAnchors(), sm2)
        return replace(_read(data, signed), signatures=signatures)
    return _read(data, signed)


def _read(data: bytes, signed: bool) -> PdfRead:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return PdfRead(None, encrypted=True, signed=signed)
        pages = len(reader.pages)
    except Exception as error:  # pypdf raises many types for a broken file: each is a reason
        return PdfRead(f"PDF cannot be read ({type(error).__name__}: {error})", signed=signed)
    return PdfRead(None, pages=pages, text=_first_page_text(reader) if pages else "", signed=signed)


def _first_page_text(reader: PdfReader) -> str:
    try:
        return reader.pages[0].extract_text() or ""
    except Exception:  # text that cannot be extracted is text the checks do not see
        return ""
