"""Archive codes (档号): fonds–year–retention–category–item number, unique within a fonds."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

DEFAULT_RULE = "{fonds}-{year}-{retention}-{category}-{seq:06d}"
_ALLOWED_FIELDS = {"fonds", "year", "retention", "category", "seq"}


@dataclass(frozen=True)
class ArchiveCodeRule:
    """How an archive code is built; configuration, so a unit can follow its own scheme."""

    template: str = DEFAULT_RULE

    def __post_init__(self) -> None:
        used = {f for _, f, _, _ in string.Formatter().parse(self.template) if f}
        if unknown := used - _ALLOWED_FIELDS:
            raise ValueError(f"archive code rule uses unknown fields {sorted(unknown)}")
        if "seq" not in used or "fonds" not in used:
            raise ValueError("archive code rule must contain {fonds} and {seq}")

    def sequence_scope(self, fonds: str, year: int, retention: str, category: str) -> str:
        """Item numbers run per fonds, year, retention and category."""
        return "|".join([fonds, str(year), retention, category])

    def build(self, *, fonds: str, year: int, retention: str, category: str, seq: int) -> str:
        code = self.template.format(
            fonds=fonds, year=year, retention=retention, category=category, seq=seq
        )
        if not re.fullmatch(r"[A-Za-z0-9·\-_.]{3,64}", code):
            raise ValueError(f"archive code {code!r} has characters outside [A-Za-z0-9·-_.]")
        return code
