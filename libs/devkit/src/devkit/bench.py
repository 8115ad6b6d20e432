"""Benchmark: N uploads through the whole pipeline, timed to RecordArchived and to the audit entry.

Each voucher carries one or two 50 KB PDFs, as the archive-core issue sets the workload.

    python -m devkit.bench --documents 500 [--concurrency 16]      (make bench N=500)

Runs the five services as processes against the local infrastructure, in a namespace of its
own, and appends the figures, with the machine and the date, to bench/results.md.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform as pyplatform
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from pypdf import PdfWriter

from contracts.events import RecordArchived
from contracts.topics import RECORDS_ARCHIVED
from devkit.cpu import cpu_seconds, infrastructure_pids
from devkit.identity import ERP, as_user
from devkit.namespace import fresh
from devkit.stack import AUDITOR, LocalStack
from devkit.watch import EventWatcher
from servicekit.settings import PlatformSettings

ROOT = Path(__file__).resolve().parents[4]
SAMPLES = ROOT / "samples"
RESULTS = ROOT / "bench" / "results.md"
RECORD_ARCHIVED_TYPE = RecordArchived.cloudevents_type()
# A scan that is no invoice: the bench's many vouchers must not book one invoice many times.
SAMPLE_PDF = (SAMPLES / "attachments" / "bank-receipt-20250320-0004411.pdf").read_bytes()


@dataclass(frozen=True)
class Figures:
    documents: int
    seconds_to_uploaded: float
    seconds_to_archived: float
    seconds_to_audited: float
    archived_ms: list[float]
    audited_ms: list[float]
    cpu_seconds: dict[str, float]  # per service and server, over the whole run


def attachments_for(n: int) -> list[bytes]:
    """One or two (alternately) PDFs of about 50 KB, as the issue's workload says; each unique,
    so that none is stored only once by content address."""
    made = []
    for _ in range(1 + n % 2):
        writer = PdfWriter(clone_from=io.BytesIO(SAMPLE_PDF))
        writer.add_attachment("scan.bin", os.urandom(49_000))  # incompressible, like a scan
        out = io.BytesIO()
        writer.write(out)
        made.append(out.getvalue())
    return made


async def audit_times(http: httpx.AsyncClient, audit: str, ids: set[str]) -> dict[str, float]:
    """When audit recorded each document's RecordArchived (its entries' ``recorded_at``), on
    the clock of ``time.monotonic()``. Asked once everything is archived, and then once a second:
    polling during the run would load the database the run measures."""
    to_monotonic = time.time() - time.monotonic()
    recorded: dict[str, float] = {}
    after = 0
    while not ids <= set(recorded):
        page = (
            await http.get(
                f"{audit}/v1/entries",
                params={
                    "event_type": "cn.aap.RecordArchived.v1",
                    "after_seq": after,
                    "limit": 1000,
                },
                headers=as_user(AUDITOR),  # the trail answers auditors only
            )
        ).json()
        for entry in page["items"]:
            at = datetime.fromisoformat(entry["recorded_at"]).timestamp()
            recorded.setdefault(entry["subject"], at - to_monotonic)
            after = entry["seq"]
        if not page["items"]:
            await asyncio.sleep(1)
    return recorded


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(
    stack: LocalStack, platform: PlatformSettings, documents: int, concurrency: int
) -> Figures:
    template = json.loads(
        (SAMPLES / "vouchers" / "2025-03-ji-0002.json").read_text(encoding="utf-8")
    )
    files = [attachments_for(n) for n in range(documents)]  # made before the clock starts
    pids = {name: p.pid for name, p in stack.processes.items()}
    pids |= infrastructure_pids(ROOT / ".local" / "run")
    cpu_before = cpu_seconds(pids)
    started: dict[str, float] = {}
    answered: dict[str, float] = {}
    limit = asyncio.Semaphore(concurrency)

    async with (
        httpx.AsyncClient(timeout=120) as http,
        EventWatcher(platform.kafka_bootstrap, platform.namespace, [RECORDS_ARCHIVED]) as watch,
    ):

        async def upload(n: int) -> None:
            voucher = json.dumps(
                {**template, "voucher_no": f"记-{n:05d}", "attachment_count": len(files[n])},
                ensure_ascii=False,
            )
            async with limit:
                t0 = time.monotonic()
                r = await http.post(
                    f"{stack.url('ingest')}/v1/vouchers",
                    files=[
                        ("voucher", ("v.json", voucher.encode())),
                        *(
                            ("attachments", (f"scan-{i}.pdf", pdf))
                            for i, pdf in enumerate(files[n])
                        ),
                    ],
                    headers=as_user(ERP),
                )
                r.raise_for_status()
                started[r.json()["document_id"]] = t0
                answered[r.json()["document_id"]] = time.monotonic()

        t_start = time.monotonic()
        await asyncio.gather(*(upload(n) for n in range(documents)))
        ids = set(started)
        await watch.wait_until(
            lambda: ids <= {s.event.subject for s in watch.seen}, 600, "all archived"
        )
        audited = await audit_times(http, stack.url("audit"), ids)

    cpu_after = cpu_seconds(pids)
    archived_at = {s.event.subject: s.at for s in watch.seen}
    return Figures(
        documents=documents,
        seconds_to_uploaded=max(answered.values()) - t_start,
        seconds_to_archived=max(archived_at[i] for i in ids) - t_start,
        seconds_to_audited=max(audited[i] for i in ids) - t_start,
        archived_ms=[(archived_at[i] - started[i]) * 1000 for i in ids],
        audited_ms=[(audited[i] - started[i]) * 1000 for i in ids],
        cpu_seconds={k: cpu_after[k] - cpu_before[k] for k in pids},
    )


def append_result(text: str) -> None:
    """A bench's figures appended to bench/results.md (newest last), and shown."""
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write(text + "\n")
    print(text)


def machine() -> str:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{pyplatform.node()}, {os.cpu_count()} cores ({cpu}), Python {pyplatform.python_version()}"
    )


def report(f: Figures, concurrency: int) -> str:
    n = f.documents
    return "\n".join(
        [
            f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {n} documents (one or two 50 KB PDF "
            f"attachments each), {concurrency} concurrent uploads",
            f"Machine: {machine()}; Kafka, MinIO, PostgreSQL and the services all local.",
            "",
            "| to | throughput (documents/s) | p50 latency (ms) | p99 latency (ms) |",
            "|---|---|---|---|",
            f"| upload answered (202) | {n / f.seconds_to_uploaded:.1f} | | |",
            f"| RecordArchived | {n / f.seconds_to_archived:.1f} | "
            f"{statistics.median(f.archived_ms):.0f} | {quantile(f.archived_ms, 0.99):.0f} |",
            f"| audit entry | {n / f.seconds_to_audited:.1f} | "
            f"{statistics.median(f.audited_ms):.0f} | {quantile(f.audited_ms, 0.99):.0f} |",
            "",
            "Latency runs from the start of a document's upload; throughput from the first "
            "upload's start to the last document's arrival; the audit entry's time is the one it "
            "records (`recorded_at`).",
            "",
            *cpu_table(f),
        ]
    )


def cpu_table(f: Figures) -> list[str]:
    """Where the cores went: CPU milliseconds per document, per process (with its children)."""
    total = sum(f.cpu_seconds.values())
    per_doc = {k: 1000 * v / f.documents for k, v in f.cpu_seconds.items()}
    cores = os.cpu_count() or 1
    return [
        "| process | CPU ms per document | share |",
        "|---|---|---|",
        *(
            f"| {k} | {ms:.1f} | {100 * f.cpu_seconds[k] / total:.0f}% |"
            for k, ms in sorted(per_doc.items(), key=lambda kv: -kv[1])
        ),
        f"| all (the bench client apart) | {1000 * total / f.documents:.1f} | 100% |",
        "",
        f"At {1000 * total / f.documents:.1f} CPU ms per document, {cores} cores bound the "
        f"pipeline at {cores * f.documents / total:.0f} documents/s on this machine.",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    platform = fresh("bench")
    namespace = platform.namespace
    stack = LocalStack(ROOT / ".local" / "logs" / namespace, env={"AAP_LOG_LEVEL": "WARNING"})
    print(f"benchmark in namespace {namespace!r}: {args.documents} documents", flush=True)
    stack.start_all()
    try:
        figures = asyncio.run(run(stack, platform, args.documents, args.concurrency))
    finally:
        stack.stop_all()
    text = report(figures, args.concurrency)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results (`make bench N=…`), newest last\n\n")
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write(text + "\n")
    print(text)
    print(f"appended to {RESULTS}")


if __name__ == "__main__":
    main()
