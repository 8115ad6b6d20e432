"""Reading zip packages without letting them harm us: limits on entries, sizes and compression,
and no names that climb out of the package (``..``) or start at the root."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class PackageLimits:
    max_entries: int = 10_000
    max_entry_bytes: int = 50 * 1024 * 1024
    max_total_bytes: int = 1024 * 1024 * 1024
    max_ratio: int = 100  # uncompressed / compressed: beyond it, a zip bomb


DEFAULT_LIMITS = PackageLimits()


class PackageError(Exception):
    """The package is refused as a whole; the message says why."""


def open_zip(data: bytes, limits: PackageLimits = DEFAULT_LIMITS) -> zipfile.ZipFile:
    """The zip, once its directory passes every limit; PackageError naming the first that fails."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise PackageError(f"not a zip package: {error}") from error
    _check_entries(archive, limits)
    return archive


def read_package(data: bytes, limits: PackageLimits = DEFAULT_LIMITS) -> dict[str, bytes]:
    """Entry name → content, for every file in the zip, after every check has passed."""
    archive = open_zip(data, limits)
    return {
        info.filename: read_entry(archive, info, limits)
        for info in archive.infolist()
        if not info.is_dir()
    }


def read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: PackageLimits) -> bytes:
    """One entry of a zip opened by ``open_zip``, read no further than the limit allows."""
    with archive.open(info) as entry:
        content = entry.read(limits.max_entry_bytes + 1)  # sizes in headers can lie
    if len(content) != info.file_size:
        raise PackageError(f"entry {info.filename!r} is not the size its header declares")
    return content


def _check_entries(archive: zipfile.ZipFile, limits: PackageLimits) -> None:
    infos = [i for i in archive.infolist() if not i.is_dir()]
    if len(infos) > limits.max_entries:
        raise PackageError(f"{len(infos)} entries, at most {limits.max_entries}")
    total = 0
    for info in infos:
        path = PurePosixPath(info.filename)
        if info.filename.startswith(("/", "\\")) or ".." in path.parts or ":" in path.parts[0]:
            raise PackageError(
                f"entry {info.filename!r} has an absolute path or climbs out with .."
            )
        if info.flag_bits & 0x1:
            raise PackageError(f"entry {info.filename!r} is encrypted")
        if info.file_size > limits.max_entry_bytes:
            raise PackageError(
                f"entry {info.filename!r} is {info.file_size} bytes, "
                f"at most {limits.max_entry_bytes}"
            )
        if info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
            raise PackageError(
                f"entry {info.filename!r} expands {info.file_size // info.compress_size}×"
                " (a zip bomb?)"
            )
        total += info.file_size
        if total > limits.max_total_bytes:
            raise PackageError(f"package expands beyond {limits.max_total_bytes} bytes")
