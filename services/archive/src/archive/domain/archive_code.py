"""Archive codes (档号): fonds–year–retention–category–item number, unique within a fonds."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

CODE_CHARACTERS = r"[A-Za-z0-9·\-_.]{3,64}"
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
        if not re.fullmatch(CODE_CHARACTERS, code):
            raise ValueError(f"archive code {code!r} has characters outside [A-Za-z0-9·-_.]")
        return code

    def problem(
        self, code: str, *, fonds: str, year: int, retention: str, category: str
    ) -> str | None:
        """1-7: why ``code`` is not what this rule gives for these parts (a correction's ``-V2``
        suffix allowed), or None if it is."""
        pattern = ""
        for literal, field, spec, _ in string.Formatter().parse(self.template):
            pattern += re.escape(literal)
            if field == "seq":
                pattern += r"\d+"
            elif field:
                parts = {"fonds": fonds, "year": year, "retention": retention, "category": category}
                pattern += re.escape(format(parts[field], spec or ""))
        if not re.fullmatch(CODE_CHARACTERS, code):
            return f"archive code {code!r} has characters outside [A-Za-z0-9·-_.]"
        if not re.fullmatch(pattern + r"(-V\d+)?", code):
            return (
                f"archive code {code!r} does not follow the rule {self.template!r} for its record"
            )
        return None
