"""Sample facts for tests and benchmarks: the one place that knows what a valid one holds.

Defaults describe one ordinary voucher of 上海澄明科技有限公司 (fonds Q001, March 2025); every
builder takes keyword changes for what a test is about.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from contracts.events import DocumentIngested, RecordArchived
from contracts.fixity import digest
from contracts.formats import format_of
from contracts.records import RecordCategory, StoredFile, VoucherSummary
from contracts.types import Money
from servicekit.s3 import ObjectStore

COMPANY = "上海澄明科技有限公司"
SAMPLES = Path(__file__).resolve().parents[4] / "samples"
Role = Literal["voucher", "description", "attachment", "source_export"]
PDF = (SAMPLES / "attachments" / "bank-receipt-20250320-0004411.pdf").read_bytes()


def unique_pdf() -> bytes:
    """A readable one-page PDF whose bytes (and digests) no other call gives: the sample with a
    comment after its end, which readers ignore."""
    return PDF + b"\n%" + uuid.uuid4().hex.encode() + b"\n"


def voucher_summary(**changes: Any) -> VoucherSummary:
    fields: dict[str, Any] = {
        "voucher_no": "记-0001",
        "voucher_date": "2025-03-05",
        "summary": "差旅费",
        "total": Money(amount="1280.00"),
        "entry_count": 2,
        "preparer": "张伟",
        "reviewer": "李娜",
        "approver": "王强",
        "declared_attachment_count": 1,
    }
    return VoucherSummary(**(fields | changes))


def stored_file(
    role: Role, filename: str, media_type: str, data: bytes, bucket: str = "ingest"
) -> StoredFile:
    """A file as ingest keeps it: content-addressed, with its digests."""
    d = digest(data)
    return StoredFile(
        role=role,
        filename=filename,
        media_type=media_type,
        size=len(data),
        bucket=bucket,
        object_key=d.content_key,
        sha256=d.sha256,
        sm3=d.sm3,
        format=format_of(media_type, data) or None,
    )


async def store_files(
    store: ObjectStore, files: Sequence[tuple[Role, str, str, bytes]]
) -> tuple[StoredFile, ...]:
    """(role, filename, media type, bytes) put into ``store`` as ingest would."""
    kept = []
    for role, name, media_type, data in files:
        f = stored_file(role, name, media_type, data, store.bucket)
        await store.put(f.object_key, data, media_type)
        kept.append(f)
    return tuple(kept)


def ingested_document(files: Sequence[StoredFile], **changes: Any) -> DocumentIngested:
    """What ingest announces for an accepted voucher with ``files``."""
    fields: dict[str, Any] = {
        "document_id": uuid.uuid4(),
        "fonds_code": "Q001",
        "company_name": COMPANY,
        "fiscal_year": 2025,
        "period": 3,
        "category": RecordCategory.BOOKKEEPING_VOUCHER,
        "voucher": voucher_summary(),
        "files": tuple(files),
        "submitted_by": "erp",
        "submitted_at": datetime.now(UTC),
    }
    return DocumentIngested(**(fields | changes))


def sample_voucher(name: str = "2025-03-ji-0002.json", **changes: Any) -> bytes:
    """A voucher export of ``samples/vouchers`` under a voucher number of its own (unless
    ``voucher_no`` is given): a voucher of its own, since intake keeps one record per
    voucher number of a fonds, unit and period."""
    doc = json.loads((SAMPLES / "vouchers" / name).read_text(encoding="utf-8"))
    doc["voucher_no"] = f"记-{secrets.randbelow(10**8):08d}"
    doc.update(changes)
    return json.dumps(doc, ensure_ascii=False).encode()


def sample_material(name: str = "2025-03-duizhangdan-1002.json", **changes: Any) -> bytes:
    """A material's description of ``samples/materials`` as a material of its own (unless
    ``reference`` is given): intake keeps one record per material of a kind and months."""
    doc = json.loads((SAMPLES / "materials" / name).read_text(encoding="utf-8"))
    doc["reference"] = f"样本-{secrets.token_hex(4)}"
    doc.update(changes)
    return json.dumps(doc, ensure_ascii=False).encode()


def material_upload(name: str, **changes: Any) -> list[tuple[str, tuple[str, bytes]]]:
    """The sample material ``name`` of ``samples/materials`` as a multipart upload: its
    description (with ``changes``) and the files of its folder."""
    folder = SAMPLES / "materials" / name
    description = folder.with_suffix(".json").read_bytes()
    if changes:
        description = json.dumps(json.loads(description) | changes, ensure_ascii=False).encode()
    files = [("description", (f"{name}.json", description))]
    return files + [("files", (p.name, p.read_bytes())) for p in sorted(folder.iterdir())]


def archived_record(fonds: str, files: Sequence[StoredFile] = (), **changes: Any) -> RecordArchived:
    """What the archive announces for a voucher of ``fonds`` it archived (its originals
    ``files``, or one made up and stored nowhere: for services that learn of records only)."""
    record = uuid.uuid4()
    scan = stored_file("voucher", "v.json", "application/json", record.bytes)
    fields: dict[str, Any] = {
        "record_id": record,
        "document_id": record,
        "archive_code": f"{fonds}-2024-D30-PZ-{record.hex[:6]}",
        "fonds_code": fonds,
        "fiscal_year": 2024,
        "category": RecordCategory.BOOKKEEPING_VOUCHER,
        "retention": {"years": 30},
        "retention_until": "2054-12-31",
        "originals": tuple(files) or (scan,),
        "archived_at": datetime.now(UTC),
    }
    return RecordArchived(**(fields | changes))
