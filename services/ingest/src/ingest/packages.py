"""Archive packages (归档信息包): checked whole first, in the worker pool, from where the upload
was spooled; then each voucher's files are read out and taken like a single upload."""

from __future__ import annotations

from pathlib import PurePosixPath

from contracts.checks import CHECK_2_10
from contracts.records import CheckOutcome
from ingest.domain.files import media_type_of
from ingest.domain.uploaders import Uploader
from ingest.journals import BeyondParsing, VoucherResult
from ingest.parsers.archive_package import (
    PackageIndex,
    read_package_entries,
    read_package_index,
)
from ingest.parsers.files import UploadedFile
from ingest.parsers.zips import PackageError
from ingest.ports import Parsers
from ingest.service import IngestService, Spooled
from servicekit.workers import LimitExceeded, WorkerFailed


class PackageService:
    def __init__(self, ingest: IngestService, parsers: Parsers) -> None:
        self._ingest = ingest
        self._parsers = parsers

    async def ingest_package(
        self, package: Spooled, *, uploader: Uploader
    ) -> tuple[PackageIndex, list[VoucherResult]]:
        try:
            index = await self._parsers.run(read_package_index, package.path)
        except LimitExceeded as error:
            raise BeyondParsing(f"package refused whole: {error}") from error
        except WorkerFailed as error:
            failed = CHECK_2_10.result(CheckOutcome.FAILED, f"cannot be read: {error}")
            return PackageIndex([failed], []), []
        results = []
        for n, v in enumerate(index.vouchers, 1):
            names = [v.voucher, *v.attachments]
            try:
                contents = await self._parsers.run(read_package_entries, package.path, names)
            except (LimitExceeded, WorkerFailed, PackageError) as error:
                raise BeyondParsing(f"package entries of {v.voucher}: {error}") from error
            voucher = UploadedFile("voucher", _name(v.voucher), "application/json", contents[0])
            attachments = [
                UploadedFile("attachment", _name(a), media_type_of(a, None), data)
                for a, data in zip(v.attachments, contents[1:], strict=True)
            ]
            result = await self._ingest.ingest(
                voucher, attachments, uploader=uploader, package_report=index.report
            )
            results.append(VoucherResult(_name(v.voucher), (n,), result))
        return index, results


def _name(path: str) -> str:
    return PurePosixPath(path).name
