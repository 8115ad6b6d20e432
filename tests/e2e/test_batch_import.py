"""The batch import command against the running ingest service: summary, resume, bad packages."""

from __future__ import annotations

import asyncio
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from devkit.identity import local_secrets
from devkit.stack import LocalStack
from ingest.batch_import import main

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def exports(folder: Path) -> Path:
    """A folder as an ERP leaves it: vouchers with attachment folders, a journal, a bad file."""
    folder.mkdir()
    for n, invoice in [
        (11, "einvoice-25312000000087654321.pdf"),
        (12, "bank-receipt-20250320-0004411.pdf"),
    ]:
        doc = json.loads(
            (SAMPLES / "vouchers" / "2025-03-ji-0002.json").read_text(encoding="utf-8")
        )
        doc["voucher_no"] = f"记-{n:04d}"
        (folder / f"v{n}.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        (folder / f"v{n}").mkdir()
        shutil.copy(SAMPLES / "attachments" / invoice, folder / f"v{n}" / invoice)
    shutil.copy(SAMPLES / "vouchers" / "unbalanced.json", folder / "unbalanced.json")
    shutil.copy(SAMPLES / "journals" / "kingdee-k3-2025-04.csv", folder / "k3.csv")
    return folder


async def test_batch_import_summarises_and_resumes(
    stack: LocalStack,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AAP_CLIENT_SECRET", local_secrets()["client:aap-erp"])
    source = exports(tmp_path / "exports")
    args = [
        str(source),
        "--url",
        stack.url("ingest"),
        "--client-id",
        "aap-erp",
        "--profile",
        "kingdee-k3",
        "--fonds-code",
        "Q001",
        "--company-name",
        "上海澄明科技有限公司",
    ]

    assert await asyncio.to_thread(main, args) == 0
    first = capsys.readouterr().out
    assert "4 items" in first and "0 done before, 4 to send" in first
    # v11's 数电票 is a PDF only: read from its text, and held until a signature or 查验.
    assert (
        "accepted 2, held for review 1, taken before 0, conflicting 0, rejected 1, not sent 0"
        in first
    )
    assert "25312000000087654321 is read from the printout's text only" in first
    assert "unbalanced.json: debits 30000.00 and credits 29999.00 do not balance" in first

    # Interrupted or not, running again sends only what was not sent.
    shutil.copy(SAMPLES / "journals" / "kingdee-k3-2025-04.csv", source / "k3-copy.csv")
    assert await asyncio.to_thread(main, args) == 0
    second = capsys.readouterr().out
    assert "5 items" in second and "4 done before, 1 to send" in second
    # The copy's vouchers are the journal's: answered with the records made the first time.
    journal_vouchers = "accepted 2, held for review 1, taken before 1"
    assert journal_vouchers in second, second


async def test_a_package_that_climbs_out_is_refused_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package = tmp_path / "evil.zip"
    with zipfile.ZipFile(package, "w") as z:
        z.writestr("ok.json", "{}")
        z.writestr("../../etc/cron.d/x", "boom")
    assert await asyncio.to_thread(main, [str(package), "--url", "http://127.0.0.1:9"]) == 2
    assert "climbs out with .." in capsys.readouterr().err
