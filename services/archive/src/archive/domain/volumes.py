"""Volume assembly (组卷/装册): a month's vouchers of one retention form one volume."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from contracts.events import RecordArchived


@dataclass(frozen=True)
class Volume:
    number: int  # 卷号, running within the fonds and year
    fiscal_year: int
    period: int | None
    retention_code: str
    records: tuple[RecordArchived, ...]

    @property
    def item_count(self) -> int:
        return len(self.records)

    @property
    def date_range(self) -> tuple[str, str]:
        dates = sorted(r.voucher.voucher_date for r in self.records if r.voucher)
        return (dates[0], dates[-1]) if dates else ("", "")

    @property
    def code_range(self) -> tuple[str, str]:
        return self.records[0].archive_code, self.records[-1].archive_code


def assemble(records: Iterable[RecordArchived]) -> list[Volume]:
    """One volume per (year, month, retention), in that order; items in archive-code order."""
    groups: dict[tuple[int, int, str], list[RecordArchived]] = defaultdict(list)
    for r in records:
        groups[(r.fiscal_year, r.period or 0, r.retention.code)].append(r)
    return [
        Volume(
            n, year, period or None, retention, tuple(sorted(items, key=lambda r: r.archive_code))
        )
        for n, ((year, period, retention), items) in enumerate(sorted(groups.items()), 1)
    ]
