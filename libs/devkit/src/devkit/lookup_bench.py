"""Benchmark: the database's lookup by _id as a collection grows (every consumer's hot path).

    python -m devkit.lookup_bench [--sizes 100,1000,5000] [--lookups 300]   (make bench-lookup)

FerretDB v1.24.2 as released never used its _id index for these lookups (see
deploy/local/ferretdb/id-index.sed): their time grew with the collection. With the index, the
median stays flat. Appends the medians, with the machine and date, to bench/results.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime

from devkit.bench import RESULTS, machine
from servicekit import mongo
from servicekit.settings import PlatformSettings


async def medians(url: str, sizes: list[int], lookups: int) -> dict[int, float]:
    """Median milliseconds of ``find_one({"_id": …})`` at each collection size."""
    client = mongo.connect(url)
    db = client[f"lookupbench_{uuid.uuid4().hex[:8]}"]
    coll = db["records"]
    ids: list[str] = []
    found: dict[int, float] = {}
    try:
        for size in sorted(sizes):
            docs = [{"_id": str(uuid.uuid4()), "event": "x" * 2000} for _ in range(size - len(ids))]
            if docs:
                await coll.insert_many(docs)
            ids += [d["_id"] for d in docs]
            times = []
            for n in range(lookups):
                started = time.perf_counter()
                await coll.find_one({"_id": ids[n * 7919 % len(ids)]})
                times.append(time.perf_counter() - started)
            found[size] = 1000 * statistics.median(times)
    finally:
        await client.drop_database(db.name)
        await client.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--lookups", type=int, default=300)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    found = asyncio.run(medians(PlatformSettings().mongo_url, sizes, args.lookups))
    text = "\n".join(
        [
            f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — lookup by _id, {args.lookups} lookups "
            "per size",
            f"Machine: {machine()}; the local MongoDB-protocol server (FerretDB on SQLite).",
            "",
            "| documents in the collection | median lookup (ms) |",
            "|---|---|",
            *(f"| {size} | {ms:.2f} |" for size, ms in sorted(found.items())),
            "",
        ]
    )
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
