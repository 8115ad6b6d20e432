"""The check registry: one row per item and stage, and a conclusion that says what is true."""

import pickle

from contracts.checks import (
    CHECK_1_1,
    CHECK_1_8,
    CHECK_2_6,
    CHECK_4_3,
    CHECK_FIXITY_KEPT,
    REGISTRY,
    Stage,
    at,
    conclude,
)
from contracts.records import CheckOutcome


def test_a_code_names_one_row_per_stage_and_a_standard_number_only_where_implemented() -> None:
    for stage in Stage:
        codes = [item.code for item in at(stage)]
        assert len(codes) == len(set(codes)), stage
    for item in REGISTRY:
        standard = item.implements or item.supports
        assert standard is not None
        assert (item.implements is not None) == (not item.code.startswith("AAP-"))
        assert item.implements is None or item.implements.code == item.code
        assert item.not_applicable is None or not item.required


def test_a_row_crosses_a_process_boundary_as_itself() -> None:
    for item in (CHECK_1_1, CHECK_FIXITY_KEPT, CHECK_1_8):
        assert pickle.loads(pickle.dumps(item)) is item


def test_the_conclusion_says_passed_only_when_every_required_item_passed() -> None:
    passed = CHECK_1_8.result(CheckOutcome.PASSED)
    optional_skipped = CHECK_2_6.result(CheckOutcome.NOT_PERFORMED, "per period")
    carrier = CHECK_4_3.result(CheckOutcome.NOT_APPLICABLE, "no carrier")
    assert conclude([passed, optional_skipped, carrier]).text == "通过"
    unverified = CHECK_1_1.result(CheckOutcome.NOT_PERFORMED, "signature not verified")
    incomplete = conclude([passed, unverified])
    assert (incomplete.verdict, incomplete.text) == ("incomplete", "未执行 1-1")
    failed = conclude([CHECK_1_8.result(CheckOutcome.FAILED, "booked before"), unverified])
    assert (failed.verdict, failed.text) == ("failed", "未通过 1-8；未执行 1-1")
    assert failed.failed == ("1-8",) and failed.not_performed == ("1-1",)
