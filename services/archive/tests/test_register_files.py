"""A register kept as a record is made the same way each time: asked again, the same bytes (and
SHA-256), whenever it is asked; the 移交清册's confirmations printed where signatures go."""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from archive.adapters.register_files import RegisterFiles
from archive.domain.archive_code import DEFAULT_RULE, ArchiveCodeRule
from archive.domain.handover_list import (
    Signature,
    handover_list_id,
    list_placement,
    list_record,
    signatures,
)
from archive.domain.registers import handover_list
from contracts.events import RecordsHandedOver
from contracts.records import RecordCategory

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
pytestmark = pytest.mark.skipif(
    not FONT.exists(), reason="needs Debian's fonts-wqy-microhei (make infra-up installs it)"
)
AT = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
SIGNED = (
    Signature("移交人", "lijing", AT - timedelta(hours=2)),
    Signature("监交人", "wangqiang", AT - timedelta(hours=1)),
    Signature("接收人", "zhaomin", AT),
)


def kept() -> tuple[bytes, bytes]:
    register = handover_list("Q001", 2025, [], signed=SIGNED, archive_code="Q001-2025-D30-QT-1")
    return asyncio.run(RegisterFiles(FONT).render(register, AT))


def test_asked_again_the_same_bytes() -> None:
    first = kept()
    again = kept()
    assert [hashlib.sha256(f).hexdigest() for f in first] == [
        hashlib.sha256(f).hexdigest() for f in again
    ]
    assert first[0].startswith(b"%PDF-") and first[1].startswith(b"PK")
    # What would carry the time of writing instead (so that asked later, the bytes differ):
    # every zip entry's date and the workbook's created and modified, dated by the register.
    with zipfile.ZipFile(io.BytesIO(first[1])) as workbook:
        assert {e.date_time for e in workbook.infolist()} == {AT.timetuple()[:6]}
        core = workbook.read("docProps/core.xml").decode()
    assert core.count("2026-01-05T02:00:00Z") == 2  # dcterms:created, dcterms:modified


def test_the_three_confirmations_are_printed_in_their_order() -> None:
    sheet = load_workbook(io.BytesIO(kept()[1])).active
    assert sheet is not None
    rows = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["会计档案移交清册  全宗号 Q001  2025年度  档号 Q001-2025-D30-QT-1"]
    assert [r for r in rows if r and str(r[0]).endswith("（平台确认）：")] == [
        ["移交人（平台确认）：", "lijing", "2026-01-05 00:00:00 UTC"],
        ["监交人（平台确认）：", "wangqiang", "2026-01-05 01:00:00 UTC"],
        ["接收人（平台确认）：", "zhaomin", "2026-01-05 02:00:00 UTC"],
    ]
    unsigned = handover_list("Q001", 2025, [])  # printed for paper: blank lines to sign on
    assert ["移交人（签字）：", "", "接收人（签字）：", "", "监交人（签字）：", "", "日期："] in (
        unsigned.footer
    )


def test_the_list_is_a_record_of_thirty_years_filed_with_the_year_it_hands_over() -> None:
    handover = RecordsHandedOver(
        handover_id=uuid.uuid4(),
        fonds_code="Q001",
        fiscal_year=2025,
        record_ids=(uuid.uuid4(),),
        volumes=1,
        handed_over_by="lijing",
        received_by="zhaomin",
        supervised_by="wangqiang",
        handed_over_at=AT,
        offered_at=AT - timedelta(hours=2),
        supervised_at=AT - timedelta(hours=1),
    )
    rule = ArchiveCodeRule(DEFAULT_RULE)
    where = list_placement("Q001", 2025, rule)
    code = where.archive_code(1, rule)
    record = list_record(handover, where, code, rule, ())
    assert code == "Q001-2025-D30-QT-000001"
    assert (record.record_id, record.category) == (
        handover_list_id(handover.handover_id),
        RecordCategory.HANDOVER_LIST,
    )
    assert (record.retention.years, record.retention_until) == (30, date(2055, 12, 31))
    assert record.submitted_by == "zhaomin"  # the 接收人, for the archive department
    assert [(s.duty, s.principal) for s in signatures(handover)] == [
        ("移交人", "lijing"),
        ("监交人", "wangqiang"),
        ("接收人", "zhaomin"),
    ]
