"""What reading one attachment costs at intake, by kind: the figures behind verifying PDF
signatures (RSA/ECDSA by pyHanko, SM2 by the SM2 verifier's JVM, kept running in the worker),
OFD seals (the same JVM) and reading invoices' structured data in the parsing
workers (``make bench-intake``).

Each file is read as the ingest service reads it (``read_file`` in a worker process of the
pool, with the trust anchors), many times; the median per file is reported, and each kind's
ratio to an unsigned PDF of the same page. Written to bench/results.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from devkit.bench import append_result, machine
from devkit.pki import Authority, sign_pdf, sign_xml
from devkit.samples import SAMPLES
from devkit.sm2 import Sm2Authority, verifier
from ingest.parsers.files import UploadedFile, read_file
from ingest.parsers.signatures import TrustAnchors
from ingest.parsers.sm2_verifier import Sm2Verifier
from servicekit.workers import WorkerLimits, WorkerPool

ATTACHMENTS = SAMPLES / "attachments"
RECEIPT_XML = (
    "<电子回单><回单编号>20250320104411000102</回单编号><交易日期>2025-03-20</交易日期>"
    "<金额>56500.00</金额></电子回单>"
).encode()


def timed(file: UploadedFile, anchors: TrustAnchors, sm2: Sm2Verifier, rounds: int) -> list[float]:
    """Seconds per read, in the worker: the pool's own overhead is not the parser's."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        read = read_file(1, file, anchors, sm2)
        times.append(time.perf_counter() - started)
        if any(not s.verified or not s.trusted for s in read.signatures):
            raise RuntimeError(f"a signature of the bench did not verify: {read.signatures}")
    return times


def kinds(folder: Path) -> tuple[dict[str, UploadedFile], TrustAnchors]:
    authority = Authority.root("bench 根证书")
    sm2_authority = Sm2Authority.make(folder / "sm2", "bench SM2 CA")
    receipt = (ATTACHMENTS / "bank-receipt-20250320-0004412.pdf").read_bytes()
    signed = sign_pdf(receipt, authority.issue("bench 签名人", "bench 银行"))
    invoice_ofd = (ATTACHMENTS / "einvoice-25312000000012345678.ofd").read_bytes()
    xml = sign_xml(RECEIPT_XML, authority.issue("bench 签名人", "bench 银行"))
    sm2_signed = sm2_authority.sign_pdf(receipt, "bench 签名人", "bench 银行")
    sealed = sm2_authority.seal(invoice_ofd, "bench 发票专用章", "bench 酒店", "bench 酒店")
    files = {
        "bank receipt PDF, unsigned": ("application/pdf", receipt),
        "bank receipt PDF, signed (ECDSA P-256, verified)": ("application/pdf", signed),
        "bank receipt PDF, signed (SM2, verified in the JVM)": ("application/pdf", sm2_signed),
        "bank receipt XML, signed (XMLDSig, ECDSA P-256, verified)": ("application/xml", xml),
        "数电票 printout PDF (text read)": (
            "application/pdf",
            (ATTACHMENTS / "einvoice-25312000000087654321.pdf").read_bytes(),
        ),
        "数电票 XML": (
            "application/xml",
            (ATTACHMENTS / "einvoice-25312000000012345678.xml").read_bytes(),
        ),
        "数电票 OFD (CustomData read)": ("application/ofd", invoice_ofd),
        "数电票 OFD, sealed (SM2, GB/T 38540; verified in a JVM)": ("application/ofd", sealed),
    }
    uploaded = {
        kind: UploadedFile("attachment", "f", media_type, data)
        for kind, (media_type, data) in files.items()
    }
    return uploaded, TrustAnchors(authority.pem() + sm2_authority.pem())


async def run(rounds: int) -> str:
    sm2 = Sm2Verifier((str(verifier()),))
    with tempfile.TemporaryDirectory(prefix="aap-bench-") as folder:
        # pyHanko signs on a loop of its own
        files, anchors = await asyncio.to_thread(kinds, Path(folder))
    pool = WorkerPool(WorkerLimits(workers=1), preload=["ingest.parsers.files"])
    await pool.start()
    try:
        medians = {
            kind: statistics.median(await pool.run(timed, f, anchors, sm2, rounds))
            for kind, f in files.items()
        }
    finally:
        await pool.close()
    base = medians["bank receipt PDF, unsigned"]
    lines = [
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — reading one attachment at intake, "
        f"{rounds} reads each",
        f"Machine: {machine()}; in one worker process of the parsing pool.",
        "",
        "| attachment | bytes | read p50 (ms) | × unsigned PDF |",
        "|---|---|---|---|",
        *(
            f"| {kind} | {len(files[kind].data)} | {m * 1000:.1f} | {m / base:.1f} |"
            for kind, m in medians.items()
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
