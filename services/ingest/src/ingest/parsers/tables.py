"""What the journal readers share: the limits a journal is held to, and rows as they read them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class JournalLimits:
    max_rows: int = 100_000
    max_columns: int = 256
    max_cells: int = 5_000_000


DEFAULT_LIMITS = JournalLimits()


class OverLimit(Exception):
    """The journal is larger than a limit allows; the message names the limit."""

    def __reduce__(self) -> tuple[type[OverLimit], tuple[str]]:
        return OverLimit, (str(self),)


Rows = Iterator[tuple[int, dict[str, str]]]  # (line number as the ERP shows it, column → text)
