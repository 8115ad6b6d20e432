"""Archive packages (aap.package.v1) are checked whole: structure, digests, counts, extra files."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contracts.checks import CHECK_2_10
from contracts.records import CheckOutcome
from ingest.parsers.archive_package import PackageIndex, read_package_entries, read_package_index

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
VOUCHER = (SAMPLES / "vouchers" / "2025-03-ji-0001.json").read_bytes()
INVOICE = (SAMPLES / "attachments" / "einvoice-25312000000012345678.xml").read_bytes()
FILES = {"2025-03/记-0001.json": VOUCHER, "2025-03/记-0001/发票.xml": INVOICE}
MANIFEST_ITEM = CHECK_2_10.code


def manifest(files: dict[str, bytes]) -> dict[str, Any]:
    return {
        "format": "aap.package.v1",
        "files": [
            {"path": p, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
            for p, d in files.items()
        ],
        "vouchers": [
            {"voucher": "2025-03/记-0001.json", "attachments": ["2025-03/记-0001/发票.xml"]}
        ],
    }


@pytest.fixture
def spool(tmp_path: Path) -> Callable[[dict[str, bytes], dict[str, Any] | None], Path]:
    """A package as the service spools it: a file on disk."""

    def write(files: dict[str, bytes], man: dict[str, Any] | None) -> Path:
        path = tmp_path / f"p{len(list(tmp_path.iterdir()))}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            if man is not None:
                z.writestr("manifest.json", json.dumps(man, ensure_ascii=False))
            for name, data in files.items():
                z.writestr(name, data)
        return path

    return write


Spool = Callable[[dict[str, bytes], dict[str, Any] | None], Path]


def failed(index: PackageIndex) -> dict[str, str]:
    return {r.code: r.detail for r in index.report if r.outcome is CheckOutcome.FAILED}


def test_a_sound_package_passes_and_yields_its_vouchers(spool: Spool) -> None:
    path = spool(FILES, manifest(FILES))
    index = read_package_index(path)
    assert index.accepted
    [v] = index.vouchers
    assert (v.voucher, v.attachments) == ("2025-03/记-0001.json", ("2025-03/记-0001/发票.xml",))
    assert read_package_entries(path, [v.voucher, *v.attachments]) == [VOUCHER, INVOICE]


def test_changed_content_extra_files_and_wrong_totals_are_each_named(spool: Spool) -> None:
    tampered = {**FILES, "2025-03/记-0001/发票.xml": INVOICE.replace(b"1280.00", b"12800.00")}
    assert "1-14" in failed(read_package_index(spool(tampered, manifest(FILES))))
    extra = {**FILES, "notes.txt": b"hello"}
    problems = failed(read_package_index(spool(extra, manifest(FILES))))
    assert problems["AAP-NO-EXTRA"] == "notes.txt is not in the manifest"
    assert "2-1" in problems and "2-2" in problems


def test_a_missing_or_broken_manifest_and_dangling_references_break_the_structure(
    spool: Spool,
) -> None:
    assert "no manifest.json" in failed(read_package_index(spool(FILES, None)))[MANIFEST_ITEM]
    broken = manifest(FILES)
    broken["vouchers"][0]["attachments"].append("2025-03/记-0001/missing.pdf")
    problems = failed(read_package_index(spool(FILES, broken)))
    assert "missing.pdf is referenced but not listed" in problems[MANIFEST_ITEM]
    assert not read_package_index(spool(FILES, {"format": "other"})).accepted
