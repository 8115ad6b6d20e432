"""Writes docs/four-property-check.md from the check registry (``contracts.checks``), the intake's
policy (``ingest.domain.policy``) and the archive's tables: the document cannot drift from them
(a test compares the committed file with what this writes).

    python -m devkit.checks_doc docs/four-property-check.md        (make docs)
"""

from __future__ import annotations

import sys
from pathlib import Path

from archive.domain.recheck import RECHECKS
from archive.domain.record import AT_ACCESSION
from contracts.checks import DAT70, NOT_IDENTIFIED, CheckItem, Stage, at
from contracts.records import CheckOutcome
from ingest.domain.four_property import INTAKE_CHECKS, NOT_PER_UPLOAD
from ingest.domain.policy import INTAKE_POLICY, Action, action_for

PROPERTY = {
    "authenticity": "真实性",
    "integrity": "完整性",
    "usability": "可用性",
    "security": "安全性",
}
ACTION = {
    Action.REJECT: "reject",
    Action.REVIEW: "hold for review",
    Action.ACCEPT: "accept, gap recorded",
}

INTRO = """\
# The four-property check (四性检测)

*Generated from `libs/contracts/src/contracts/checks.py` (the registry),
`services/ingest/src/ingest/domain/policy.py` (what intake does with an outcome) and the archive's
re-check table by `make docs`; a test fails when this file and they differ.*

DA/T 70-2018 (文书类电子档案检测一般要求) has a table of numbered items for each stage —
archiving (归档), handover and receipt (移交与接收), long-term preservation (长期保存) — under four
properties. Each stage's table below lists every item of the standard by its number, with what
the platform does for it, or why it does nothing; a check of the platform's own (a business
control such as the duplicate booking of an invoice) carries an `AAP-` code and names the
standard item it supports. Items about carriers (discs, tapes) cannot apply to an online
transfer and are listed as not applicable. The last section says which numbers and names could
not be confirmed against the standard's text.

Every item of a report has one of four outcomes: **passed**, **failed** (with each finding, naming
the file by name, position and SHA-256, or the field), **not performed** (it applies, and was not
done: the report says why) or **not applicable** (nothing it could apply to: the report says
why). The report's conclusion says **通过** only when every required item passed; otherwise it
names what failed (未通过) and which required items were not performed (未执行). The report and
its conclusion travel in `DocumentIngested` / `DocumentRejected`, are kept with the archive record
(`RecordArchived.check_report`, `check_conclusion`) and are written into the record's package as
`check-report.json`; `metadata.xml` carries the conclusion.
"""

ARCHIVING = """\
## At archiving (归档): intake, then accession

Ingest runs these items over every upload (a voucher with its attachments, each voucher of a
journal or an archive package); the archive adds those marked *accession* when it takes the
document in. What an outcome does at intake is the policy's: a failure **rejects** the upload
(each reason named), **holds it for review** (archived, flagged `review_required`, listed by
`GET /v1/records?review_required=true` until an archivist decides with
`POST /v1/records/{id}/review`; the year cannot be handed over before), or is **accepted with the
gap recorded**. A required item not performed holds the upload for review unless its rule says
otherwise.

| code | item | property | required | standard item | what is checked | failed | not performed |
|---|---|---|---|---|---|---|---|
"""

KEPT = """\
## As kept: before a handover (移交与接收) and on a schedule (长期保存)

The archive runs this table over each stored record, each object read at the version archived
(a version put over a locked original is itself a finding): before it accepts a handover (the
移交与接收 table), on a schedule (`AAP_ARCHIVE_RECHECK_SWEEP_SECONDS`, default a day) and on
demand (`POST /v1/records/{id}/recheck`, which answers with the report and each finding) (both
the 长期保存 table). The two stages' tables have the same rows. The virus scan uses
`AAP_ARCHIVE_CLAMD_ADDRESS` (without it, 4-1 and 4-2 say not performed); readability runs in the
archive's worker pool (`AAP_ARCHIVE_READ_*` limits); 2-6 asks the year's completeness. Every
finding publishes `IntegrityAlertRaised` with its `check_code`; a handover is refused while any
record has one, and while its year has an open gap.

| code | item | property | required | standard item | as kept |
|---|---|---|---|---|---|
"""

ITEMS = """\
## The standard's items, and how sure their numbers are

The text of DA/T 70-2018 could not be read where the platform was built; the numbers and names
below are those public implementations of the standard quote where one was found, the rest as the
platform has carried them, marked unconfirmed. The three stages are taken to number their items
alike. An item whose name no available text gave is listed, not performed, and never required.

| number | name | confirmed by |
|---|---|---|
"""

PACKAGES = """\
## Archive packages

Packages (`POST /v1/packages`, a zip with `manifest.json`, format `aap.package.v1`, see
`services/ingest/src/ingest/parsers/archive_package.py`) are read within limits (entries, sizes,
compression ratio; no `..`, absolute or repeated names) and checked whole first (the package
items above); only then is each voucher in it checked and taken like a single upload, its report
carrying the package's results.
"""


def _standard(item: CheckItem) -> str:
    if item.implements:
        return f"implements {item.implements.code} {item.implements.name}"
    assert item.supports is not None
    return f"supports {item.supports.code} {item.supports.name}"


def _what(item: CheckItem) -> str:
    if item.not_applicable:
        return f"not applicable: {item.not_applicable}"
    return NOT_IDENTIFIED if item.unidentified() else item.what


def _as_kept(item: CheckItem) -> str:
    if item in RECHECKS:
        return item.what
    skipped = item.unperformed(Stage.PRESERVATION)
    assert skipped is not None, f"{item.code} is neither re-checked nor excused"
    return f"{skipped.outcome.value.replace('_', ' ')}: {skipped.detail}"


def _row(item: CheckItem, *more: str) -> str:
    cells = [
        f"`{item.code}`",
        item.name,
        PROPERTY[item.property.value],
        "yes" if item.required else "no",
        _standard(item),
        _what(item),
        *more,
    ]
    if item.not_applicable:  # the reason is its whole story
        cells[-len(more) :] = ["—"] * len(more) if more else []
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |\n"


def render() -> str:
    out = [INTRO, "\n", ARCHIVING]
    for item in at(Stage.ARCHIVING):
        if item in AT_ACCESSION:
            failed = {"review": "hold for review", "retry": "accession retried until it passes"}[
                AT_ACCESSION[item]
            ]
            failed, skipped = f"{failed} (at accession)", "—"
        elif item in NOT_PER_UPLOAD:
            skip = NOT_PER_UPLOAD[item]
            failed = "—"
            skipped = f"{skip.outcome.value.replace('_', ' ')}: {skip.reason}"
            if skip.outcome is CheckOutcome.NOT_PERFORMED:
                skipped += f" ({ACTION[action_for(item, skip.outcome, INTAKE_POLICY)]})"
        else:
            failed = ACTION[action_for(item, CheckOutcome.FAILED, INTAKE_POLICY)]
            skipped = ACTION[action_for(item, CheckOutcome.NOT_PERFORMED, INTAKE_POLICY)]
        out.append(_row(item, failed, skipped))
    assert set(INTAKE_CHECKS) | set(AT_ACCESSION) == set(at(Stage.ARCHIVING))
    out += ["\n", KEPT]
    kept = at(Stage.PRESERVATION)
    assert kept == at(Stage.HANDOVER), "one table for both stages"
    for item in kept:
        cells = [f"`{item.code}`", item.name, PROPERTY[item.property.value],
                 "yes" if item.required else "no", _standard(item), _as_kept(item)]  # fmt: skip
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |\n")
    out += ["\n", PACKAGES, "\n", ITEMS]
    for standard in DAT70.values():
        out.append(
            f"| {standard.code} | {standard.name} | {standard.confirmed_by or 'unconfirmed'} |\n"
        )
    return "".join(out)


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/four-property-check.md")
    path.write_text(render(), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
