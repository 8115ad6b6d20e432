"""How long the largest journals a limit lets in take to parse, and how much memory: the figures
behind the parsing workers' time and memory limits (``make bench-parse``).

Each journal is parsed in a worker process of its own, as the ingest service parses it; the
worker reports its wall time and its peak resident memory (``ru_maxrss``), beside what an idle
worker holds. Written to bench/results.md.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import Workbook

from devkit.bench import machine
from devkit.samples import SAMPLES
from ingest.parsers.journal import load_profiles
from ingest.parsers.journal_file import read_journal_file
from ingest.settings import IngestSettings
from servicekit.workers import WorkerLimits, WorkerPool

ROOT = Path(__file__).resolve().parents[4]
PROFILES = load_profiles(ROOT / "services" / "ingest" / "src" / "ingest" / "profiles")
K3 = (SAMPLES / "journals" / "kingdee-k3-2025-04.csv").read_bytes().decode("utf-8-sig")
# The production defaults (ingest.settings): what a journal may reach before it is refused, and
# the memory a worker may take (the time limit is lifted, to measure).
DEFAULTS = IngestSettings()
LIMITS = DEFAULTS.journal_limits
WORKER = WorkerLimits(workers=1, memory_bytes=DEFAULTS.parse_memory_bytes, seconds=600)


def journal_rows(rows: int) -> list[list[str]]:
    """A 金蝶 K/3 journal of ``rows`` lines: vouchers of two lines, numbered on."""
    header, debit, credit = (next(csv.reader([line])) for line in K3.splitlines()[:3])
    out = [header]
    for n in range(rows // 2):
        for line in (debit, credit):
            out.append([*line[:2], str(n + 1), *line[3:]])
    return out


def as_csv(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8")


def as_xlsx(rows: list[list[str]]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def idle() -> int:
    """Peak resident memory (KiB) of a worker that parsed nothing."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(path: Path, name: str) -> tuple[float, int, int]:
    """(seconds, peak resident KiB, vouchers) of one parse, in the worker that runs it."""
    started = time.perf_counter()
    read = read_journal_file(
        path,
        name,
        PROFILES["kingdee-k3"],
        fonds_code="Q001",
        company_name="上海澄明科技有限公司",
        limits=LIMITS,
    )
    elapsed = time.perf_counter() - started
    assert read.over_limit is None and not read.findings, (read.over_limit, read.findings)
    return elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, len(read.vouchers)


async def one(data: bytes, name: str, rounds: int) -> tuple[float, int, int, int]:
    """Median seconds, peak KiB, vouchers and an idle worker's KiB, each round a fresh worker."""
    times, peaks, vouchers, idles = [], [], 0, []
    with tempfile.NamedTemporaryFile(suffix=name) as f:
        f.write(data)
        f.flush()
        for _ in range(rounds):
            pool = WorkerPool(WORKER, preload=["ingest.parsers.journal_file"])
            try:
                idles.append(await pool.run(idle))
                elapsed, peak, vouchers = await pool.run(measure, Path(f.name), name)
            finally:
                await pool.close()
            times.append(elapsed)
            peaks.append(peak)
    return statistics.median(times), max(peaks), vouchers, max(idles)


async def run(rounds: int) -> str:
    lines = [
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — journals parsed in a worker, {rounds} rounds",
        f"Machine: {machine()}; each parse in a fresh worker process, as the ingest service does.",
        "",
        "| journal | rows | bytes | vouchers | parse p50 (s) | peak RSS (MiB) | idle (MiB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for rows in (10_000, LIMITS.max_rows):
        table = journal_rows(rows)
        for kind, data in (("CSV", as_csv(table)), ("Excel", as_xlsx(table))):
            name = "journal.csv" if kind == "CSV" else "journal.xlsx"
            seconds, peak, vouchers, idle_kib = await one(data, name, rounds)
            lines.append(
                f"| {kind} | {rows} | {len(data)} | {vouchers} | {seconds:.2f} | "
                f"{peak / 1024:.0f} | {idle_kib / 1024:.0f} |"
            )
    lines += [
        "",
        f"Journals up to the row limit (`AAP_INGEST_JOURNAL_MAX_ROWS`, "
        f"{LIMITS.max_rows} rows), parsed under the default memory limit "
        f"(`AAP_INGEST_PARSE_MEMORY_BYTES`, {DEFAULTS.parse_memory_bytes // 2**20} MiB of address "
        f"space, which runs above RSS); the default time limit "
        f"(`AAP_INGEST_PARSE_SECONDS`) is {DEFAULTS.parse_seconds:g} s.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.md")
    args = parser.parse_args()
    text = asyncio.run(run(args.rounds))
    print(text)
    with args.out.open("a", encoding="utf-8") as f:
        f.write("\n" + text)


if __name__ == "__main__":
    main()
