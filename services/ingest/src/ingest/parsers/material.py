"""The description of a material, format ``aap.material.v1`` (JSON): docs/formats/material-json.md.

A ledger, a report, a bank statement or reconciliation, a tax return (第六条 (二)(三)(四)) is
uploaded as its files (PDF, OFD, XLSX, XML) with this small document saying what they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field

from contracts.checks import CHECK_1_5
from contracts.records import MaterialDescription
from ingest.parsers.findings import ExportError, Finding
from ingest.parsers.json_document import load_document, validated


class MaterialExport(MaterialDescription):
    """What an uploader sends: the description, and the fonds, unit and year it belongs to."""

    format: Literal["aap.material.v1"]
    fonds_code: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,16}$")]
    company_name: str = Field(min_length=1, max_length=200)
    fiscal_year: Annotated[int, Field(ge=1990, le=2200)]

    @property
    def description(self) -> MaterialDescription:
        return MaterialDescription.model_validate(
            self.model_dump(exclude={"format", "fonds_code", "company_name", "fiscal_year"})
        )


def parse_material(raw: bytes) -> MaterialExport:
    """Parse and check one description; raise ExportError naming every problem found."""
    material = validated(MaterialExport, load_document(raw, "description"), "description")
    if material.disposed_on is not None and material.disposed_on.year < material.fiscal_year:
        raise ExportError(
            [
                Finding(
                    CHECK_1_5,
                    "disposed_on",
                    f"{material.disposed_on} is before fiscal year {material.fiscal_year}",
                )
            ]
        )
    return material


@dataclass(frozen=True)
class MaterialRead:
    """A material's description as read: the description, or every reason it cannot be taken."""

    material: MaterialExport | None
    findings: tuple[Finding, ...] = ()


def read_material(raw: bytes) -> MaterialRead:
    try:
        return MaterialRead(parse_material(raw))
    except ExportError as error:
        return MaterialRead(None, tuple(error.findings))
