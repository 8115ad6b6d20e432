"""Borrowing modes (借阅方式): how a borrower may use the records an approval lends them.

会计档案管理办法 第十三条: "单位应当严格按照相关制度利用会计档案，在进行会计档案查阅、复制、
借出时履行登记手续，严禁篡改和损坏。" Each mode is asked for, approved in the OA, granted and
registered as itself:

- 查阅 (view): the record and its originals' pages, rendered on the server and watermarked with
  the borrower, the time and the grant; the original bytes are never sent.
- 复制 (copy): copies handed out, each marked as a copy with the same watermark (a PDF by an
  incremental update, so that what was signed still verifies) and registered as 复制.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

BorrowingMode = Literal["view", "copy"]
GrantAction = Literal["read", "download"]  # what a borrowing grant may allow


@dataclass(frozen=True)
class ModeRule:
    label: str  # as the OA form and the usage register print it
    actions: tuple[GrantAction, ...]  # what a grant of the mode allows


BORROWING_MODES: Mapping[BorrowingMode, ModeRule] = {
    "view": ModeRule("查阅", ("read",)),
    "copy": ModeRule("复制", ("read", "download")),
}
# A request filed before modes were told apart granted reading and downloading.
UNSAID_MODE = ModeRule("查阅、复制（未分方式）", ("read", "download"))


def mode_rule(mode: BorrowingMode | None) -> ModeRule:
    return BORROWING_MODES[mode] if mode else UNSAID_MODE
