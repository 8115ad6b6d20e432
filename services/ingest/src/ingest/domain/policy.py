"""What the four-property check's outcome does to archiving: one rule per check item.

A failure rejects the upload, holds it for an archivist's review, or is accepted with the gap
recorded in the report; so is an item that was not performed. Unless a rule says otherwise, a
required item not performed holds the upload for review, and one not required is accepted with
the gap recorded: the report says 通过 only when every required item passed, either way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from contracts.checks import (
    CHECK_1_1,
    CHECK_1_2,
    CHECK_1_3,
    CHECK_1_4,
    CHECK_1_5,
    CHECK_1_6,
    CHECK_1_8,
    CHECK_1_10,
    CHECK_1_14,
    CHECK_2_1,
    CHECK_2_2,
    CHECK_2_4,
    CHECK_2_5,
    CHECK_2_7,
    CHECK_2_8,
    CHECK_2_10,
    CHECK_3_1,
    CHECK_3_3,
    CHECK_3_4,
    CHECK_3_5,
    CHECK_3_8,
    CHECK_4_1,
    CHECK_4_2,
    CHECK_DUPLICATE_BOOKING,
    CHECK_INVOICE_MATCH,
    CHECK_INVOICE_SOURCE,
    CHECK_INVOICE_VERIFIED,
    CHECK_NO_EXTRA,
    CHECK_RECEIPT_MATCH,
    CHECK_SIGNED,
    CHECK_SIGNER_TRUSTED,
    CheckItem,
    Stage,
    by_code,
)
from contracts.records import CheckOutcome, CheckResult


class Action(StrEnum):
    REJECT = "reject"  # refused, with every reason
    REVIEW = "review"  # archived, held for an archivist's review before it can be handed over
    ACCEPT = "accept"  # archived; the gap stays on record in the report


@dataclass(frozen=True)
class Rule:
    failed: Action
    not_performed: Action | None = None  # None: REVIEW if the item is required, else ACCEPT


# A signature shown altered refuses the file. One that cannot be verified here (a 数电票 XML's,
# an OFD seal) cannot be by an archivist either: holding each for review would change nothing
# but the queue. The report keeps the gap (1-1 not performed), and its conclusion says so.
UNVERIFIABLE_SIGNATURES = Rule(Action.REJECT, not_performed=Action.ACCEPT)
# A signer outside the trust anchors is for an archivist to judge; without anchors configured,
# the gap is recorded as for a signature that cannot be verified.
UNTRUSTED_SIGNERS = Rule(Action.REVIEW, not_performed=Action.ACCEPT)

INTAKE_POLICY: Mapping[CheckItem, Rule] = {
    CHECK_1_1: UNVERIFIABLE_SIGNATURES,
    CHECK_SIGNER_TRUSTED: UNTRUSTED_SIGNERS,
    CHECK_SIGNED: Rule(Action.REVIEW),
    CHECK_1_2: Rule(Action.REJECT),
    CHECK_1_3: Rule(Action.REJECT),
    CHECK_1_4: Rule(Action.REJECT),
    CHECK_1_5: Rule(Action.REJECT),
    CHECK_1_6: Rule(Action.REVIEW),
    CHECK_1_8: Rule(Action.REJECT),
    CHECK_DUPLICATE_BOOKING: Rule(Action.REJECT),
    CHECK_1_10: Rule(Action.REJECT),
    CHECK_INVOICE_MATCH: Rule(Action.REVIEW),
    CHECK_RECEIPT_MATCH: Rule(Action.REVIEW),
    CHECK_INVOICE_SOURCE: Rule(Action.REVIEW),
    # 作废, 红冲, 查无此票…: for an archivist. Unanswered (or no provider): the gap recorded, and
    # the invoice asked again until the platform answers.
    CHECK_INVOICE_VERIFIED: Rule(Action.REVIEW, not_performed=Action.ACCEPT),
    CHECK_1_14: Rule(Action.REJECT),
    CHECK_2_1: Rule(Action.REJECT),
    CHECK_2_2: Rule(Action.REJECT),
    CHECK_2_4: Rule(Action.REJECT),
    CHECK_2_5: Rule(Action.REVIEW),
    CHECK_2_7: Rule(Action.REJECT),
    CHECK_2_8: Rule(Action.REVIEW),
    CHECK_2_10: Rule(Action.REJECT),
    CHECK_3_1: Rule(Action.REJECT),
    CHECK_3_3: Rule(Action.REJECT),
    CHECK_3_4: Rule(Action.REJECT),
    CHECK_3_5: Rule(Action.REVIEW),
    CHECK_3_8: Rule(Action.REJECT),
    CHECK_4_1: Rule(Action.REVIEW),
    CHECK_4_2: Rule(Action.REJECT),
    CHECK_NO_EXTRA: Rule(Action.REJECT),
}
DEFAULT_RULE = Rule(Action.REJECT)  # an item with no rule of its own: a failure refuses


def action_for(item: CheckItem, outcome: CheckOutcome, policy: Mapping[CheckItem, Rule]) -> Action:
    rule = policy.get(item, DEFAULT_RULE)
    if outcome is CheckOutcome.FAILED:
        return rule.failed
    if outcome is CheckOutcome.NOT_PERFORMED:
        if rule.not_performed is not None:
            return rule.not_performed
        return Action.REVIEW if item.required else Action.ACCEPT
    return Action.ACCEPT


@dataclass(frozen=True)
class Verdict:
    rejecting: list[CheckResult]
    for_review: list[CheckResult]


def judge(
    report: Sequence[CheckResult], policy: Mapping[CheckItem, Rule] = INTAKE_POLICY
) -> Verdict:
    actions = [(r, action_for(by_code(r.code, Stage.ARCHIVING), r.outcome, policy)) for r in report]
    return Verdict(
        rejecting=[r for r, a in actions if a is Action.REJECT],
        for_review=[r for r, a in actions if a is Action.REVIEW],
    )
