"""What a parser finds wrong with an input: the check item it falls under, where, and what."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.checks import CheckItem


@dataclass(frozen=True)
class Finding:
    item: CheckItem
    field: str
    message: str


class ExportError(Exception):
    """The export cannot be taken at all; ``findings`` names each reason."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("; ".join(f"{f.field}: {f.message}" for f in findings))
        self.findings = findings

    def __reduce__(self) -> tuple[type[ExportError], tuple[list[Finding]]]:
        return ExportError, (self.findings,)  # whole, across a process boundary
