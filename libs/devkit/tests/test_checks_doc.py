"""docs/four-property-check.md is what the registry and the policies say, not a copy of them."""

from pathlib import Path

from devkit.checks_doc import render

DOC = Path(__file__).resolve().parents[3] / "docs" / "four-property-check.md"


def test_the_committed_document_is_the_generated_one() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), "run `make docs` and commit the result"
