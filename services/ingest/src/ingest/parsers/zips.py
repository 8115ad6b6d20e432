"""Reading zip packages without letting them harm us: limits on entries, sizes and compression,
and no names that climb out of the package (``..``) or start at the root."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath


@dataclass(frozen=True)
class PackageLimits:
    max_entries: int = 10_000
    max_entry_bytes: int = 50 * 1024 * 1024
    max_total_bytes: int = 1024 * 1024 * 1024
    max_ratio: int = 100  # uncompressed / compressed: beyond it, a zip bomb


DEFAULT_LIMITS = PackageLimits()


class PackageError(Exception):
    """The package is refused as a whole; the message says why."""


def open_zip(source: bytes | Path, limits: PackageLimits = DEFAULT_LIMITS) -> zipfile.ZipFile:
    """The zip (its bytes, or a file spooled to disk), once its directory passes every limit;
    PackageError naming the first that fails."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
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
    try:
        with archive.open(info) as entry:
            content = entry.read(limits.max_entry_bytes + 1)  # sizes in headers can lie
    except Exception as error:  # a corrupt stream, an unsupported method: zipfile, zlib, bz2…
        raise PackageError(f"entry {info.filename!r} cannot be read: {error}") from error
    if len(content) != info.file_size:
        raise PackageError(f"entry {info.filename!r} is not the size its header declares")
    return content


def entry_digest(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: PackageLimits) -> str:
    """SHA-256 of one entry, read in chunks (never whole in memory) and no further than the
    limit allows; PackageError if it cannot be read or is not the size its header declares."""
    sha, size = hashlib.sha256(), 0
    try:
        with archive.open(info) as entry:
            while chunk := entry.read(1024 * 1024):
                size += len(chunk)
                if size > limits.max_entry_bytes:
                    break
                sha.update(chunk)
    except Exception as error:
        raise PackageError(f"entry {info.filename!r} cannot be read: {error}") from error
    if size != info.file_size:
        raise PackageError(f"entry {info.filename!r} is not the size its header declares")
    return sha.hexdigest()


def _check_entries(archive: zipfile.ZipFile, limits: PackageLimits) -> None:
    infos = [i for i in archive.infolist() if not i.is_dir()]
    if len(infos) > limits.max_entries:
        raise PackageError(f"{len(infos)} entries, at most {limits.max_entries}")
    total, seen = 0, set()
    for info in infos:
        if info.filename in seen:  # which of the two would be read is up to the reader
            raise PackageError(f"entry {info.filename!r} appears twice")
        seen.add(info.filename)
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
