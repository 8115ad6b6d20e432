"""Continuous voucher numbering within a period (DA/T 70 item 2-6): gaps and repeats reported.

Voucher numbers run per voucher word (记/收/付/转…) within a month: 记-0001, 记-0002, …
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

_NUMBER = re.compile(r"^(?P<word>.*?)[-_ ]?(?P<n>\d+)$")


@dataclass(frozen=True)
class NumberingReport:
    word: str
    first: int
    last: int
    count: int
    gaps: tuple[int, ...]
    repeats: tuple[int, ...]
    unparsed: tuple[str, ...] = ()

    @property
    def continuous(self) -> bool:
        return not (self.gaps or self.repeats or self.unparsed)


def word_of(voucher_no: str) -> str:
    """The voucher word (凭证字) a number runs under: 记 of 记-0003; "?" if it has none."""
    m = _NUMBER.match(voucher_no.strip())
    return m["word"] if m else "?"


def numbering(voucher_nos: Iterable[str]) -> list[NumberingReport]:
    by_word: dict[str, list[int]] = defaultdict(list)
    unparsed: list[str] = []
    for no in voucher_nos:
        m = _NUMBER.match(no.strip())
        if m is None:
            unparsed.append(no)
            continue
        by_word[m["word"]].append(int(m["n"]))
    reports = []
    for word, numbers in sorted(by_word.items()):
        seen = Counter(numbers)  # counted once: a month holds thousands of vouchers
        first, last = min(seen), max(seen)
        reports.append(
            NumberingReport(
                word=word,
                first=first,
                last=last,
                count=len(numbers),
                gaps=tuple(n for n in range(1, last + 1) if n not in seen),
                repeats=tuple(sorted(n for n, times in seen.items() if times > 1)),
            )
        )
    if unparsed:
        reports.append(NumberingReport("?", 0, 0, len(unparsed), (), (), tuple(sorted(unparsed))))
    return reports
