"""What the batch import finds in a folder of exports: vouchers, materials, journals."""

from __future__ import annotations

from pathlib import Path

from ingest.batch_import import discover, read_source

SAMPLES = Path(__file__).resolve().parents[3] / "samples"


def test_a_material_is_its_description_and_the_files_of_its_folder() -> None:
    items = discover(read_source(SAMPLES / "materials"))
    assert {i.kind for i in items} == {"material"} and len(items) == 9
    ledger = next(i for i in items if i.key == "2025-zongzhang.json")
    # An Excel file of a material's folder is that material's, not a journal to import.
    assert [name for name, _ in ledger.attachments] == ["2025年度总账.xlsx"]


def test_vouchers_materials_and_journals_side_by_side() -> None:
    files = {
        "记-0001.json": b'{"format": "aap.voucher.v1"}',
        "记-0001/发票.pdf": b"%PDF-1.4",
        "总账.json": b'{"format": "aap.material.v1"}',
        "总账/总账.xlsx": b"PK\x03\x04",
        "凭证-2025-04.xlsx": b"PK\x03\x04",
        "broken.json": b"{",
    }
    found = {i.key: (i.kind, [n for n, _ in i.attachments]) for i in discover(files)}
    assert found == {
        "broken.json": ("voucher", []),  # its upload says what is wrong with it
        "总账.json": ("material", ["总账.xlsx"]),
        "记-0001.json": ("voucher", ["发票.pdf"]),
        "凭证-2025-04.xlsx": ("journal", []),
    }
