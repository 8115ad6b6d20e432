"""Volume assembly (组卷/装册): a month's vouchers of one retention form one volume; ledgers,
reports and other material of a month and retention form volumes of their own, by category.

Volumes are bound (fixed, with their numbers) when the records are handed over to the archive
department (移交): the handover list names them, so they never change afterwards. Until then a
year's volumes are provisional, assembled from the records as they are, numbered after the bound
ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from archive.domain.retention import RETENTION_RULES
from contracts.events import RecordArchived


@dataclass(frozen=True)
class Volume:
    number: int  # 卷号, running within the fonds and year
    fiscal_year: int
    period: int | None
    retention_code: str
    records: tuple[RecordArchived, ...]
    bound: bool = False  # fixed at a handover; otherwise provisional

    @property
    def item_count(self) -> int:
        return len(self.records)

    @property
    def date_range(self) -> tuple[str, str]:
        dates = sorted(r.voucher.voucher_date for r in self.records if r.voucher)
        months = sorted(
            f"{r.fiscal_year}-{month:02d}"
            for r in self.records
            if (m := r.material)
            for month in (m.period_from, m.period_to)
        )
        dates = sorted(dates + months)
        return (dates[0], dates[-1]) if dates else ("", "")

    @property
    def code_range(self) -> tuple[str, str]:
        return self.records[0].archive_code, self.records[-1].archive_code


@dataclass(frozen=True)
class BoundVolume:
    """A volume as bound at a handover: its number and the records in it, in order."""

    number: int
    fiscal_year: int
    period: int | None
    retention_code: str
    record_ids: tuple[str, ...]


def assemble(records: Iterable[RecordArchived], first_number: int = 1) -> list[Volume]:
    """One volume per (year, month, retention, category: vouchers, ledgers, reports, other), in
    that order; items in archive-code order."""
    groups: dict[tuple[int, int, str, str], list[RecordArchived]] = defaultdict(list)
    for r in records:
        category = RETENTION_RULES[r.category].category_code
        groups[(r.fiscal_year, r.period or 0, r.retention.code, category)].append(r)
    return [
        Volume(
            n, year, period or None, retention, tuple(sorted(items, key=lambda r: r.archive_code))
        )
        for n, ((year, period, retention, _), items) in enumerate(
            sorted(groups.items()), first_number
        )
    ]


def bind(volumes: Sequence[Volume]) -> list[BoundVolume]:
    """What to keep of volumes being bound: numbers and record ids."""
    return [
        BoundVolume(
            v.number,
            v.fiscal_year,
            v.period,
            v.retention_code,
            tuple(str(r.record_id) for r in v.records),
        )
        for v in volumes
    ]


def next_number(bound: Sequence[BoundVolume]) -> int:
    return 1 + max((v.number for v in bound), default=0)


def year_volumes(records: Iterable[RecordArchived], bound: Sequence[BoundVolume]) -> list[Volume]:
    """A year's volumes: the bound ones as bound, then the other records assembled provisionally."""
    by_id: Mapping[str, RecordArchived] = {str(r.record_id): r for r in records}
    fixed = [
        Volume(
            b.number,
            b.fiscal_year,
            b.period,
            b.retention_code,
            tuple(by_id[i] for i in b.record_ids if i in by_id),
            bound=True,
        )
        for b in sorted(bound, key=lambda b: b.number)
    ]
    in_volumes = {i for b in bound for i in b.record_ids}
    loose = [r for i, r in by_id.items() if i not in in_volumes]
    return fixed + assemble(loose, next_number(bound))
