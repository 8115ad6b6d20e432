"""Archive packages (归档信息包, format ``aap.package.v1``): a zip of vouchers and their
attachments with a manifest, checked as a whole before any voucher in it is taken.

    manifest.json
      {"format": "aap.package.v1",
       "files": [{"path": "2025-03/记-0001.json", "sha256": "…", "size": 912}, …],
       "vouchers": [{"voucher": "2025-03/记-0001.json",
                     "attachments": ["2025-03/记-0001/发票.xml"]}, …]}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contracts.fixity import digest
from contracts.records import CheckOutcome, CheckProperty, CheckResult
from ingest.domain.package import DEFAULT_LIMITS, PackageError, PackageLimits, read_package

MANIFEST = "manifest.json"


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
class PackageVoucher:
    voucher: tuple[str, bytes]
    attachments: list[tuple[str, bytes]]


@dataclass(frozen=True)
class OpenedPackage:
    report: list[CheckResult]
    vouchers: list[PackageVoucher]  # empty unless every package check passed

    @property
    def accepted(self) -> bool:
        return all(r.outcome is not CheckOutcome.FAILED for r in self.report)


def _result(code: str, name: str, prop: CheckProperty, problems: list[str]) -> CheckResult:
    return CheckResult(
        code=code,
        name=name,
        property=prop,
        outcome=CheckOutcome.FAILED if problems else CheckOutcome.PASSED,
        detail="; ".join(problems),
    )


def open_package(data: bytes, limits: PackageLimits = DEFAULT_LIMITS) -> OpenedPackage:
    """Check the package as a whole (DA/T 70 1-13, 1-14, 2-1, 2-2, 4-3) and cut it into vouchers."""
    try:
        files = read_package(data, limits)
    except PackageError as error:
        return OpenedPackage(
            [_result("1-13", "信息包结构 package structure", "authenticity", [str(error)])], []
        )
    try:
        manifest = Manifest.model_validate_json(files.pop(MANIFEST))  # depth-limited parser
    except KeyError:
        return OpenedPackage(
            [
                _result(
                    "1-13",
                    "信息包结构 package structure",
                    "authenticity",
                    [f"no {MANIFEST} at the package root"],
                )
            ],
            [],
        )
    except (ValueError, ValidationError) as error:
        return OpenedPackage(
            [
                _result(
                    "1-13",
                    "信息包结构 package structure",
                    "authenticity",
                    [f"{MANIFEST} is not an aap.package.v1 manifest: {error}"],
                )
            ],
            [],
        )
    listed = {f.path: f for f in manifest.files}
    referenced = [v.voucher for v in manifest.vouchers] + [
        a for v in manifest.vouchers for a in v.attachments
    ]
    structure = [
        f"{p} is referenced but not listed in files" for p in referenced if p not in listed
    ]
    structure += [f"{p} is listed but not in the package" for p in listed if p not in files]
    digests = [
        f"{p}: SHA-256 {digest(files[p]).sha256} ≠ manifest {f.sha256}"
        for p, f in listed.items()
        if p in files and digest(files[p]).sha256 != f.sha256
    ]
    count = (
        []
        if len(listed) == len(files)
        else [f"manifest lists {len(listed)} files, package has {len(files)}"]
    )
    size_listed, size_found = (
        sum(f.size for f in manifest.files),
        sum(len(b) for b in files.values()),
    )
    size = (
        []
        if size_listed == size_found
        else [f"manifest declares {size_listed} bytes, package has {size_found}"]
    )
    extra = [f"{p} is not in the manifest" for p in files if p not in listed]
    report = [
        _result("1-13", "信息包结构 package structure", "authenticity", structure),
        _result(
            "1-14", "信息包内容数据与元数据一致 digests match the manifest", "authenticity", digests
        ),
        _result("2-1", "总件数 total count", "integrity", count),
        _result("2-2", "总字节数 total bytes", "integrity", size),
        _result("4-3", "无多余文件 no extra files", "security", extra),
    ]
    if any(r.outcome is CheckOutcome.FAILED for r in report):
        return OpenedPackage(report, [])

    def named(path: str) -> tuple[str, bytes]:
        return path.rsplit("/", 1)[-1], files[path]

    vouchers = [
        PackageVoucher(named(v.voucher), [named(a) for a in v.attachments])
        for v in manifest.vouchers
    ]
    return OpenedPackage(report, vouchers)
