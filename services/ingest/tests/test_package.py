"""Zip packages are read only within limits, and never outside themselves."""

from __future__ import annotations

import io
import zipfile

import pytest

from ingest.parsers.zips import PackageError, PackageLimits, read_package


def zipped(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_a_plain_package_is_read_whole() -> None:
    files = read_package(
        zipped({"2025-03/记-0001.json": b"{}", "2025-03/记-0001/发票.xml": b"<a/>"})
    )
    assert files == {"2025-03/记-0001.json": b"{}", "2025-03/记-0001/发票.xml": b"<a/>"}


@pytest.mark.parametrize("name", ["../evil.json", "a/../../evil.json", "/etc/passwd", "C:/x.json"])
def test_names_that_leave_the_package_are_refused(name: str) -> None:
    with pytest.raises(PackageError, match="absolute path or climbs out"):
        read_package(zipped({name: b"x"}))


def test_zip_bombs_and_too_many_entries_are_refused() -> None:
    with pytest.raises(PackageError, match="zip bomb"):
        read_package(zipped({"zeros.bin": bytes(10_000_000)}))
    with pytest.raises(PackageError, match="3 entries, at most 2"):
        read_package(zipped({"a": b"1", "b": b"2", "c": b"3"}), PackageLimits(max_entries=2))
    with pytest.raises(PackageError, match="at most 4"):
        read_package(zipped({"a": b"12345"}, zipfile.ZIP_STORED), PackageLimits(max_entry_bytes=4))


def test_something_that_is_not_a_zip_says_so() -> None:
    with pytest.raises(PackageError, match="not a zip package"):
        read_package(b"%PDF-1.4 not a zip")
