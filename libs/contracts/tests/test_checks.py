"""The check registry: one row per item and stage, and a conclusion that says what is true."""

import pickle

from contracts.checks import (
    CHECK_1_1,
    CHECK_1_8,
    CHECK_1_9,
    CHECK_2_6,
    CHECK_4_3,
    CHECK_APPROVAL_RECORD,
    CHECK_DUPLICATE_BOOKING,
    DAT70,
    REGISTRY,
    UNIDENTIFIED,
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
    for item in (CHECK_1_1, CHECK_2_6, CHECK_1_8):
        assert pickle.loads(pickle.dumps(item)) is item


def test_the_conclusion_says_passed_only_when_every_required_item_passed() -> None:
    passed = CHECK_1_8.result(CheckOutcome.PASSED)
    optional_skipped = CHECK_APPROVAL_RECORD.result(CheckOutcome.NOT_PERFORMED, "waiting")
    carrier = CHECK_4_3.result(CheckOutcome.NOT_APPLICABLE, "no carrier")
    assert conclude([passed, optional_skipped, carrier]).text == "通过"
    unverified = CHECK_1_1.result(CheckOutcome.NOT_PERFORMED, "signature not verified")
    incomplete = conclude([passed, unverified])
    assert (incomplete.verdict, incomplete.text) == ("incomplete", "未执行 1-1")
    failed = conclude([CHECK_1_8.result(CheckOutcome.FAILED, "booked before"), unverified])
    assert (failed.verdict, failed.text) == ("failed", "未通过 1-8；未执行 1-1")
    assert failed.failed == ("1-8",) and failed.not_performed == ("1-1",)


def test_each_stage_lists_every_item_of_the_standard_by_its_number() -> None:
    for stage in Stage:
        numbers = [item.code for item in at(stage) if not item.code.startswith("AAP-")]
        assert numbers == list(DAT70), stage  # the standard's order, none left out


def test_one_number_has_one_meaning_in_every_stage() -> None:
    for code in DAT70:
        rows = {item for item in REGISTRY if item.code == code}
        assert len(rows) == 1, code
        assert rows.pop().stages == frozenset(Stage), code


def test_a_business_control_names_the_item_it_supports_and_is_no_standard_item() -> None:
    assert CHECK_DUPLICATE_BOOKING.code.startswith("AAP-")
    assert CHECK_DUPLICATE_BOOKING.supports is CHECK_1_8.implements
    assert CHECK_1_8.implements is not None and "重复" in CHECK_1_8.implements.name


def test_an_item_not_confirmed_or_not_identified_says_so() -> None:
    assert CHECK_1_9.implements is not None and CHECK_1_9.implements.name == UNIDENTIFIED
    assert "未经原文核对" in str(CHECK_1_9.implements)
    unperformed = CHECK_1_9.unperformed(Stage.ARCHIVING)
    assert unperformed is not None and unperformed.outcome is CheckOutcome.NOT_PERFORMED
    assert not unperformed.required  # the conclusion never waits for an unidentified item
    assert "未经原文核对" not in str(CHECK_1_8.implements)
