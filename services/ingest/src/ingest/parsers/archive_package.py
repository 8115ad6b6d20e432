"""Archive packages (归档信息包, format ``aap.package.v1``): a zip of vouchers and their
attachments with a manifest, checked as a whole before any voucher in it is taken.

    manifest.json
      {"format": "aap.package.v1",
       "files": [{"path": "2025-03/记-0001.json", "sha256": "…", "size": 912}, …],
       "vouchers": [{"voucher": "2025-03/记-0001.json",
                     "attachments": ["2025-03/记-0001/发票.xml"]}, …]}

The package stays on disk where the upload was spooled: the whole-package checks read each entry
in chunks to hash it, and a voucher's files are read out only when that voucher is taken, so a
package never expands in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contracts.checks import (
    CHECK_1_14,
    CHECK_2_1,
    CHECK_2_2,
    CHECK_2_10,
    CHECK_NO_EXTRA,
    CheckItem,
)
from contracts.records import CheckOutcome, CheckResult
from ingest.parsers.zips import (
    DEFAULT_LIMITS,
    PackageError,
    PackageLimits,
    entry_digest,
    open_zip,
    read_entry,
)

MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 16 * 1024 * 1024


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ManifestFile(_Strict):
    path: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)


class ManifestVoucher(_Strict):
    voucher: str
    attachments: tuple[str, ...] = ()


class Manifest(_Strict):
    format: Literal["aap.package.v1"]
    files: tuple[ManifestFile, ...] = Field(min_length=1)
    vouchers: tuple[ManifestVoucher, ...] = Field(min_length=1)


@dataclass(frozen=True)
class PackageIndex:
    """The whole-package checks, and (only if every one passed) the vouchers to take."""

    report: list[CheckResult]
    vouchers: list[ManifestVoucher]

    @property
    def accepted(self) -> bool:
        return all(r.outcome is not CheckOutcome.FAILED for r in self.report)


def _result(item: CheckItem, problems: list[str]) -> CheckResult:
    return item.result(
        CheckOutcome.FAILED if problems else CheckOutcome.PASSED, "; ".join(problems)
    )


def _refused(problem: str) -> PackageIndex:
    return PackageIndex([_result(CHECK_2_10, [problem])], [])


def read_package_index(path: Path, limits: PackageLimits = DEFAULT_LIMITS) -> PackageIndex:
    """Check the package as a whole: its manifest, every digest, the counts, nothing extra."""
    try:
        archive = open_zip(path, limits)
        infos = {i.filename: i for i in archive.infolist() if not i.is_dir()}
        if MANIFEST not in infos:
            return _refused(f"no {MANIFEST} at the package root")
        if infos[MANIFEST].file_size > MAX_MANIFEST_BYTES:
            return _refused(f"{MANIFEST} is over {MAX_MANIFEST_BYTES} bytes")
        raw = read_entry(archive, infos.pop(MANIFEST), limits)
        try:
            manifest = Manifest.model_validate_json(raw)  # depth-limited parser
        except (ValueError, ValidationError) as error:
            return _refused(f"{MANIFEST} is not an aap.package.v1 manifest: {error}")
        found = {name: entry_digest(archive, info, limits) for name, info in infos.items()}
    except PackageError as error:
        return _refused(str(error))
    listed = {f.path: f for f in manifest.files}
    referenced = [v.voucher for v in manifest.vouchers] + [
        a for v in manifest.vouchers for a in v.attachments
    ]
    structure = [
        f"{p} is referenced but not listed in files" for p in referenced if p not in listed
    ]
    structure += [f"{p} is listed but not in the package" for p in listed if p not in found]
    digests = [
        f"{p}: SHA-256 {found[p]} ≠ manifest {f.sha256}"
        for p, f in listed.items()
        if p in found and found[p] != f.sha256
    ]
    count = (
        []
        if len(listed) == len(found)
        else [f"manifest lists {len(listed)} files, package has {len(found)}"]
    )
    size_listed = sum(f.size for f in manifest.files)
    size_found = sum(infos[p].file_size for p in found)
    size = (
        []
        if size_listed == size_found
        else [f"manifest declares {size_listed} bytes, package has {size_found}"]
    )
    extra = [f"{p} is not in the manifest" for p in found if p not in listed]
    report = [
        _result(CHECK_2_10, structure),
        _result(CHECK_1_14, digests),
        _result(CHECK_2_1, count),
        _result(CHECK_2_2, size),
        _result(CHECK_NO_EXTRA, extra),
    ]
    index = PackageIndex(report, list(manifest.vouchers))
    return index if index.accepted else PackageIndex(report, [])


def read_package_entries(
    path: Path, names: list[str], limits: PackageLimits = DEFAULT_LIMITS
) -> list[bytes]:
    """The content of the named entries, in order (one voucher's files at a time)."""
    archive = open_zip(path, limits)
    return [read_entry(archive, archive.getinfo(name), limits) for name in names]
