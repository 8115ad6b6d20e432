"""Journals: an ERP's voucher journal (CSV, Excel or XML) cut into vouchers, each taken like a
single upload. Read in the worker pool from where it was spooled; refused whole, naming the
limit, when it is larger than the limits allow: never cut."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path

from contracts.checks import CHECK_3_1
from contracts.fixity import Digests
from contracts.formats import XLSX, format_of
from contracts.records import StoredFile
from ingest.domain.uploaders import Uploader
from ingest.parsers.files import UploadedFile
from ingest.parsers.findings import Finding
from ingest.parsers.journal import JournalProfile
from ingest.parsers.journal_file import journal_kind, read_journal_file
from ingest.parsers.tables import JournalLimits
from ingest.ports import Originals, Parsers
from ingest.service import IngestResult, IngestService, Spooled
from servicekit.workers import LimitExceeded, WorkerFailed

MEDIA_TYPES = {"xml": "application/xml", "xlsx": XLSX, "csv": "text/csv"}


class UnknownProfile(Exception):
    pass


class Unreadable(Exception):
    """The journal (or package) cannot be read at all: ``findings`` says why. Nothing taken."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("; ".join(f.message for f in findings))
        self.findings = findings


class OverLimit(Exception):
    """Larger than a limit allows (rows, columns, cells, bytes): refused whole, naming it."""


class BeyondParsing(Exception):
    """Parsing went over the time or memory limit: refused whole, naming it."""


@dataclass(frozen=True)
class VoucherResult:
    """What became of one voucher of a journal or a package."""

    voucher_no: str
    rows: tuple[int, ...]  # its lines in a journal; its place in a package
    result: IngestResult


def _digests(path: Path) -> Digests:
    sha, sm3 = hashlib.sha256(), hashlib.new("sm3")
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            sha.update(chunk)
            sm3.update(chunk)
    return Digests(sha.hexdigest(), sm3.hexdigest())


class JournalService:
    def __init__(
        self,
        ingest: IngestService,
        originals: Originals,
        parsers: Parsers,
        profiles: dict[str, JournalProfile],
        limits: JournalLimits,
    ) -> None:
        self._ingest = ingest
        self._originals = originals
        self._parsers = parsers
        self.profiles = profiles
        self._limits = limits

    async def ingest_journal(
        self,
        journal: Spooled,
        *,
        profile: str,
        fonds_code: str,
        company_name: str,
        uploader: Uploader,
    ) -> list[VoucherResult]:
        if fonds_code:  # refused before anything is read; XML journals name theirs per voucher
            uploader.require(fonds_code)
        head = await asyncio.to_thread(_head, journal.path)
        kind = journal_kind(head, journal.filename)
        chosen = None
        if kind != "xml":  # the XML export carries its own fonds and names: no profile needed
            if profile not in self.profiles:
                raise UnknownProfile(
                    f"no journal profile {profile!r}; known: {sorted(self.profiles)}"
                )
            chosen = self.profiles[profile]
        try:
            read = await self._parsers.run(
                read_journal_file,
                journal.path,
                journal.filename,
                chosen,
                fonds_code=fonds_code,
                company_name=company_name,
                limits=self._limits,
            )
        except LimitExceeded as error:
            raise BeyondParsing(f"journal refused whole: {error}") from error
        except WorkerFailed as error:
            raise Unreadable([Finding(CHECK_3_1, "journal", f"cannot be read: {error}")]) from error
        if read.over_limit:
            raise OverLimit(f"journal refused whole: {read.over_limit}")
        if read.findings:
            raise Unreadable(list(read.findings))
        source = await self._keep(journal, MEDIA_TYPES[kind])
        results = []
        for v in read.vouchers:
            name = f"{journal.filename}#{v.voucher_no}.json"
            if v.document is None:
                rejected = await self._ingest.reject_unreadable(name, v.problems, uploader.name)
                results.append(VoucherResult(v.voucher_no, v.rows, rejected))
                continue
            voucher = UploadedFile("voucher", name, "application/json", v.document)
            result = await self._ingest.ingest(voucher, [], uploader=uploader, source_export=source)
            results.append(VoucherResult(v.voucher_no, v.rows, result))
        return results

    async def _keep(self, journal: Spooled, media_type: str) -> StoredFile:
        """The journal itself, kept whole beside the vouchers cut from it (streamed from disk)."""
        d = await asyncio.to_thread(_digests, journal.path)
        if not await self._originals.exists(d.content_key):
            await self._originals.put_file(d.content_key, journal.path, media_type)
        return StoredFile(
            role="source_export",
            filename=journal.filename,
            media_type=media_type,
            size=journal.size,
            bucket=self._originals.bucket,
            object_key=d.content_key,
            sha256=d.sha256,
            sm3=d.sm3,
            format=format_of(media_type, await asyncio.to_thread(_head, journal.path)) or None,
        )


def _head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(512)
