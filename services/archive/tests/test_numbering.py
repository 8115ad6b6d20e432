from archive.domain.numbering import numbering


def test_gaps_and_repeats_are_reported_per_voucher_word() -> None:
    words = {
        r.word: r for r in numbering(["记-0001", "记-0002", "记-0005", "记-0005", "收-1", "收-2"])
    }
    ji, shou = words["记"], words["收"]
    assert (ji.word, ji.first, ji.last, ji.count) == ("记", 1, 5, 4)
    assert ji.gaps == (3, 4) and ji.repeats == (5,) and not ji.continuous
    assert shou.word == "收" and shou.continuous


def test_numbering_must_start_at_one_and_odd_numbers_are_listed() -> None:
    [ji, odd] = numbering(["记-0003", "记-0004", "作废"])
    assert ji.gaps == (1, 2)
    assert odd.unparsed == ("作废",) and not odd.continuous
