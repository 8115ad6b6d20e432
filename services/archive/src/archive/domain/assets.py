"""Fixed-asset cards (固定资产卡片): kept while the asset is in use, then
"固定资产报废清理后保管5年" (附表1 序号6). Until its disposal is recorded a card has no last
day of retention and is held; once it is, the last day is counted from the end of the
disposal's year (第十四条)."""

from __future__ import annotations

from datetime import date

from archive.domain.lifecycle import Conflict
from archive.domain.retention import retention_until
from contracts.events import RecordArchived
from contracts.records import RecordCategory


class DisposalRefused(Conflict):
    """The disposal cannot be recorded on this record; the message says why."""


def disposed(card: RecordArchived, on: date, today: date) -> RecordArchived:
    """The card as kept once its asset's disposal on ``on`` is recorded. The same card (the
    same date recorded again) is answered as it is: recording is repeat-safe."""
    m = card.material
    if card.category is not RecordCategory.FIXED_ASSET_CARD or m is None:
        raise DisposalRefused(f"{card.archive_code} is not a fixed-asset card")
    if m.disposed_on == on:
        return card
    if m.disposed_on is not None:
        raise DisposalRefused(
            f"the disposal of asset {m.asset_no} was recorded already: {m.disposed_on}"
        )
    if on > today:
        raise DisposalRefused(f"{on} is in the future: record a disposal once it happened")
    if on.year < card.fiscal_year:
        raise DisposalRefused(f"{on} is before the card's fiscal year {card.fiscal_year}")
    return card.model_copy(
        update={
            "retention_until": retention_until(card.retention, card.fiscal_year, disposal=on),
            "material": m.model_copy(update={"disposed_on": on}),
        }
    )
