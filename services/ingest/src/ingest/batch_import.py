"""Batch import: a folder or a zip of ERP exports into the ingest service, resumable.

    python -m ingest.batch_import EXPORTS [--url URL] [--client-id ID]
                                  [--profile P --fonds-code F --company-name C]

It signs in as a client of the platform's identity provider (client-credentials grant): the
issuer is ``AAP_OIDC_ISSUER``, the secret ``AAP_CLIENT_SECRET`` (never on the command line,
where other users of the machine could read it).

In EXPORTS, every ``NAME.json`` is a voucher (format aap.voucher.v1) or a material's
description (format aap.material.v1: a ledger, a report, a bank statement…) whose attachments or
files are those in the folder ``NAME/`` beside it, and every other ``*.csv`` or ``*.xlsx`` is a
voucher journal read with ``--profile``. Progress is kept in ``EXPORTS.import-state.json``: run
the same command again after an interruption and it goes on where it stopped; a voucher sent
twice (the state lost, a copy of a journal) is answered with the record made the first time
("taken before").
It ends with a summary of what was accepted, held for review and rejected, and why.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import httpx
from tqdm import tqdm

from ingest.parsers.zips import PackageError, read_package
from servicekit.auth import ClientCredentials


@dataclass
class Item:
    """One thing to send: a voucher with its attachments, a material with its files, or a
    journal."""

    key: str
    kind: str  # "voucher", "material" or "journal"
    main: tuple[str, bytes]
    attachments: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def digest(self) -> str:
        h = hashlib.sha256(self.main[1])
        for name, data in self.attachments:
            h.update(name.encode() + data)
        return h.hexdigest()


def _kind(content: bytes) -> str:
    """A JSON export's kind by its format: a material's description, else a voucher (whose
    upload says what is wrong with it, if it is neither)."""
    try:
        document = json.loads(content)
    except ValueError:
        return "voucher"
    is_material = isinstance(document, dict) and document.get("format") == "aap.material.v1"
    return "material" if is_material else "voucher"


def discover(files: dict[str, bytes]) -> list[Item]:
    """Items from a flat mapping of relative path → content."""
    items = []
    exports = [
        p
        for p in map(PurePosixPath, sorted(files))
        if p.suffix == ".json" and not any(part.startswith(".") for part in p.parts)
    ]
    folders = {str(p.with_suffix("")) + "/" for p in exports}
    for p in exports:
        folder = str(p.with_suffix("")) + "/"
        attached = [
            (PurePosixPath(a).name, files[a]) for a in sorted(files) if a.startswith(folder)
        ]
        content = files[str(p)]
        items.append(Item(str(p), _kind(content), (p.name, content), attached))
    for path in sorted(files):
        inside = any(path.startswith(f) for f in folders)  # a file of a voucher or material
        if PurePosixPath(path).suffix in {".csv", ".xlsx"} and not inside:
            items.append(Item(path, "journal", (PurePosixPath(path).name, files[path])))
    return items


def read_source(source: Path) -> dict[str, bytes]:
    if source.is_dir():
        return {
            str(p.relative_to(source).as_posix()): p.read_bytes()
            for p in source.rglob("*")
            if p.is_file()
        }
    return read_package(source.read_bytes())


class State:
    """What was sent already, saved after every item (write, then rename: never half a file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: dict[str, dict[str, Any]] = json.loads(path.read_text()) if path.exists() else {}

    def finished(self, item: Item) -> bool:
        return self.done.get(item.key, {}).get("digest") == item.digest

    def record(self, item: Item, results: list[dict[str, Any]]) -> None:
        self.done[item.key] = {"digest": item.digest, "results": results}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.done, ensure_ascii=False, indent=1))
        os.replace(tmp, self.path)


def _results(item: Item, response: httpx.Response) -> list[dict[str, Any]]:
    body = response.json()
    if item.kind == "journal" and "vouchers" in body:
        return [
            {
                "what": f"{item.key} {v['voucher_no']}",
                "status": v["status"],
                "why": "; ".join(p["message"] for p in v.get("problems", [])),
            }
            for v in body["vouchers"]
        ]
    status = body.get("status", "rejected")
    if status == "accepted" and body.get("review_required"):
        status = "held_for_review"
    problems = body.get("problems") or [{"message": body.get("detail", response.text)}]
    quiet = {"accepted", "already_accepted"}
    why = "" if status in quiet else "; ".join(str(p.get("message")) for p in problems)
    if status == "held_for_review":
        why = "; ".join(
            f"{c['code']} {c['detail']}"
            for c in body.get("check_report", [])
            if c["outcome"] == "failed"
        )
    return [{"what": item.key, "status": status, "why": why}]


def send(client: httpx.Client, item: Item, args: argparse.Namespace) -> list[dict[str, Any]]:
    if item.kind == "voucher":
        files = [("voucher", item.main), *(("attachments", a) for a in item.attachments)]
        response = client.post("/v1/vouchers", files=files)
    elif item.kind == "material":
        files = [("description", item.main), *(("files", a) for a in item.attachments)]
        response = client.post("/v1/materials", files=files)
    else:
        if not args.profile:
            return [{"what": item.key, "status": "rejected", "why": "a journal needs --profile"}]
        form = {
            "profile": args.profile,
            "fonds_code": args.fonds_code,
            "company_name": args.company_name,
        }
        response = client.post("/v1/journals", files={"journal": item.main}, data=form)
    if response.status_code >= 500:
        response.raise_for_status()  # not a verdict: the item stays to be sent again
    return _results(item, response)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("exports", type=Path, help="a folder or a .zip of exports")
    parser.add_argument("--url", default=os.environ.get("AAP_INGEST_URL", "http://127.0.0.1:8101"))
    parser.add_argument("--client-id", default=os.environ.get("AAP_CLIENT_ID", "aap-erp"))
    parser.add_argument("--profile")
    parser.add_argument("--fonds-code", default="")
    parser.add_argument("--company-name", default="")
    parser.add_argument(
        "--state", type=Path, help="progress file (default: EXPORTS.import-state.json)"
    )
    args = parser.parse_args(argv)
    try:
        items = discover(read_source(args.exports))
    except (PackageError, OSError) as error:
        print(f"cannot read {args.exports}: {error}", file=sys.stderr)
        return 2
    state = State(args.state or args.exports.with_name(args.exports.name + ".import-state.json"))
    todo = [i for i in items if not state.finished(i)]
    print(
        f"{len(items)} items in {args.exports}; "
        f"{len(items) - len(todo)} done before, {len(todo)} to send"
    )
    failures = 0
    issuer, secret = os.environ.get("AAP_OIDC_ISSUER"), os.environ.get("AAP_CLIENT_SECRET")
    if not (issuer and secret):
        print("set AAP_OIDC_ISSUER and AAP_CLIENT_SECRET (the client's secret)", file=sys.stderr)
        return 2
    auth = ClientCredentials(issuer, args.client_id, secret)
    with httpx.Client(base_url=args.url, auth=auth, timeout=120) as client:
        for item in tqdm(todo, unit="item", disable=None):
            try:
                state.record(item, send(client, item, args))
            except httpx.HTTPError as error:
                failures += 1
                tqdm.write(f"{item.key}: not sent ({error}); run again to retry")
    results = [r for entry in state.done.values() for r in entry["results"]]
    counts = Counter(r["status"] for r in results)
    print(
        f"accepted {counts['accepted']}, held for review {counts['held_for_review']}, "
        f"taken before {counts['already_accepted']}, conflicting {counts['conflict']}, "
        f"rejected {counts['rejected']}, not sent {failures}"
    )
    for r in results:
        if r["status"] not in {"accepted", "already_accepted"}:
            print(f"  {r['status']:<16} {r['what']}: {r['why']}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
