"""Archive packages (aap.package.v1) are checked whole: structure, digests, counts, extra files."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

from contracts.records import CheckOutcome
from ingest.domain.archive_package import open_package

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
VOUCHER = (SAMPLES / "vouchers" / "2025-03-ji-0001.json").read_bytes()
INVOICE = (SAMPLES / "attachments" / "einvoice-25312000000012345678.xml").read_bytes()
FILES = {"2025-03/记-0001.json": VOUCHER, "2025-03/记-0001/发票.xml": INVOICE}


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


def package(files: dict[str, bytes], man: dict[str, Any] | None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        if man is not None:
            z.writestr("manifest.json", json.dumps(man, ensure_ascii=False))
        for path, data in files.items():
            z.writestr(path, data)
    return buf.getvalue()


def failed(data: bytes) -> dict[str, str]:
    return {r.code: r.detail for r in open_package(data).report if r.outcome is CheckOutcome.FAILED}


def test_a_sound_package_passes_and_yields_its_vouchers() -> None:
    opened = open_package(package(FILES, manifest(FILES)))
    assert opened.accepted
    [v] = opened.vouchers
    assert v.voucher == ("记-0001.json", VOUCHER) and v.attachments == [("发票.xml", INVOICE)]


def test_changed_content_extra_files_and_wrong_totals_are_each_named() -> None:
    tampered = {**FILES, "2025-03/记-0001/发票.xml": INVOICE.replace(b"1280.00", b"12800.00")}
    assert "1-14" in failed(package(tampered, manifest(FILES)))
    extra = {**FILES, "notes.txt": b"hello"}
    problems = failed(package(extra, manifest(FILES)))
    assert problems["4-3"] == "notes.txt is not in the manifest"
    assert "2-1" in problems and "2-2" in problems


def test_a_missing_or_broken_manifest_and_dangling_references_break_the_structure() -> None:
    assert "no manifest.json" in failed(package(FILES, None))["1-13"]
    broken = manifest(FILES)
    broken["vouchers"][0]["attachments"].append("2025-03/记-0001/missing.pdf")
    assert "missing.pdf is referenced but not listed" in failed(package(FILES, broken))["1-13"]
    assert not open_package(package(FILES, {"format": "other"})).accepted
