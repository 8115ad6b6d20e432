"""docs/endpoints.md is what the endpoint table says, not a copy of it."""

from pathlib import Path

from devkit.endpoints_doc import render

DOC = Path(__file__).resolve().parents[3] / "docs" / "endpoints.md"


def test_the_committed_document_is_the_generated_one() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), "run `make docs` and commit the result"
