"""The watermark on what a borrower sees or takes away (第十三条: 查阅 and 复制 are registered
uses): who, when, under which grant, of which record, so that a page photographed or a copy
passed on names where it came from."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Use = Literal["page", "copy"]
HEADINGS: dict[Use, str] = {"page": "查阅 VIEW", "copy": "复制件 COPY · 不作原件使用"}


@dataclass(frozen=True)
class Watermark:
    use: Use
    reader: str  # the authenticated principal
    at: datetime  # UTC
    grant_id: uuid.UUID | None  # None: read by role (依职权)
    archive_code: str

    def lines(self) -> tuple[str, str]:
        grant = f"授权 {self.grant_id}" if self.grant_id else "依职权 by role"
        return (
            f"{HEADINGS[self.use]} · {self.archive_code}",
            f"{self.reader} · {self.at:%Y-%m-%d %H:%M:%S} UTC · {grant}",
        )

    def text(self) -> str:
        return " / ".join(self.lines())


class NotRenderable(Exception):
    """The original cannot be shown as pages, or copied, here; the message says why."""


@dataclass(frozen=True)
class Page:
    """A page of an original as the borrower sees it: an image with the watermark."""

    png: bytes
    count: int  # pages the original has


@dataclass(frozen=True)
class Copy:
    """What a 复制 borrower takes away: marked as a copy, the watermark on it."""

    filename: str
    media_type: str
    data: bytes
