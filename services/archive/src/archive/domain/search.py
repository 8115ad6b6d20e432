"""What an archive user searches by, checked before any query is made."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from contracts.records import RecordCategory
from contracts.types import Money


def fen(amount: Decimal) -> int:
    """An amount in 分 (hundredths), exact, for range queries as integers."""
    return int((amount * 100).to_integral_exact())


@dataclass(frozen=True)
class SearchCriteria:
    fonds_code: str | None = None
    fiscal_year: int | None = None
    period: int | None = None
    category: RecordCategory | None = None
    voucher_no: str | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    counterparty: str | None = None  # name or tax id, any part of it
    invoice_number: str | None = None
    text: str | None = None  # any part of the summary, e.g. 差旅费
    review_required: bool | None = None

    def __post_init__(self) -> None:
        for bound in (self.amount_min, self.amount_max):
            if bound is not None:
                Money(amount=bound)  # exact to 分, never a float: raises ValueError otherwise
        lo, hi = self.amount_min, self.amount_max
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"amount_min {lo} is above amount_max {hi}")
        for name in ("counterparty", "text"):
            value = getattr(self, name)
            if value is not None and not 1 <= len(value) <= 100:
                raise ValueError(f"{name} must be 1 to 100 characters")


@dataclass(frozen=True)
class Visibility:
    """What the permission service says a user may see."""

    all_fonds: bool
    fonds: tuple[str, ...]
    record_ids: tuple[str, ...]

    @property
    def nothing(self) -> bool:
        return not (self.all_fonds or self.fonds or self.record_ids)

    def by_role(self, fonds_code: str) -> bool:
        """Whether a role (not a single grant) lets the user see the fonds' records."""
        return self.all_fonds or fonds_code in self.fonds

    def sees(self, fonds_code: str, record_id: str) -> bool:
        return self.by_role(fonds_code) or record_id in self.record_ids


@dataclass(frozen=True)
class Hits:
    """One page of a search: result-list entries, whether more follow, the count if asked."""

    items: list[dict[str, Any]]
    has_more: bool
    total: int | None
