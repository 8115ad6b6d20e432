"""What a borrower's use of an original costs the archive, by mode (``make bench-borrowing``):
a 查阅 page rendered and watermarked (PDFium, or an XML's text set in the CJK font), and a 复制
copy marked as one (a PDF stamped in an incremental update, any other format zipped with its
manifest), each made in a worker of the archive's pool as the service makes it.

The median per use is reported, with each one's ratio to a PDF page viewed. (A download by
role hands out the bytes as the object store returns them: nothing to measure here.) Written
to bench/results.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime

from archive.adapters.rendering import marked_copy, render_page
from archive.domain.watermark import Watermark
from archive.settings import ArchiveSettings
from devkit.bench import append_result, machine
from devkit.pki import Authority, sign_pdf
from devkit.samples import SAMPLES
from servicekit.workers import WorkerLimits, WorkerPool

ATTACHMENTS = SAMPLES / "attachments"


def timed(use: str, media_type: str, data: bytes, font: str, rounds: int) -> list[float]:
    """Seconds per use, in the worker: the pool's own overhead is not the renderer's."""
    times = []
    for _ in range(rounds):
        mark = Watermark("copy" if use == "copy" else "page", "bench", datetime.now(UTC),
                         uuid.uuid4(), "Q001-2025-D30-PZ-000001")  # fmt: skip
        started = time.perf_counter()
        if use == "copy":
            marked_copy("f", media_type, data, mark, font)
        else:
            render_page(media_type, data, 1, mark, font)
        times.append(time.perf_counter() - started)
    return times


async def run(rounds: int) -> str:
    font = str(ArchiveSettings.model_fields["cjk_font"].default)
    receipt = (ATTACHMENTS / "bank-receipt-20250320-0004412.pdf").read_bytes()
    authority = Authority.root("bench 根证书")
    signed = await asyncio.to_thread(sign_pdf, receipt, authority.issue("bench", "bench 银行"))
    invoice = (ATTACHMENTS / "einvoice-25312000000012345678.xml").read_bytes()
    uses = {
        "查阅: signed receipt PDF, page 1 rendered and watermarked": (
            "page", "application/pdf", signed),
        "查阅: 数电票 XML, page 1 of its text, watermarked": ("page", "application/xml", invoice),
        "复制: signed receipt PDF, stamped (incremental update)": (
            "copy", "application/pdf", signed),
        "复制: 数电票 XML, zipped with its manifest": ("copy", "application/xml", invoice),
    }  # fmt: skip
    pool = WorkerPool(WorkerLimits(workers=1), preload=["archive.adapters.rendering"])
    await pool.start()
    try:
        medians = {
            name: statistics.median(await pool.run(timed, use, media_type, data, font, rounds))
            for name, (use, media_type, data) in uses.items()
        }
    finally:
        await pool.close()
    base = medians["查阅: signed receipt PDF, page 1 rendered and watermarked"]
    lines = [
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — a borrower's use of one original, by "
        f"mode, {rounds} uses each",
        f"Machine: {machine()}; in one worker process of the archive's pool.",
        "",
        "| use | bytes in | p50 (ms) | × PDF page |",
        "|---|---|---|---|",
        *(
            f"| {name} | {len(uses[name][2])} | {m * 1000:.1f} | {m / base:.2f} |"
            for name, m in medians.items()
        ),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    append_result(asyncio.run(run(args.rounds)))


if __name__ == "__main__":
    main()
