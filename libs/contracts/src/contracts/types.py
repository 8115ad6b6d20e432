"""Value types every contract uses: money as Decimal with currency, UTC times with zone."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field


def _no_float(value: Any) -> Any:
    # A float has already lost the exact amount; accept strings, ints and Decimals only.
    if isinstance(value, float):
        raise ValueError("amounts must be given as strings or integers, never floats")
    return value


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


Amount = Annotated[
    Decimal,
    BeforeValidator(_no_float),
    Field(max_digits=20, decimal_places=2, description="Exact amount, serialised as a string"),
]
"""An amount of money: exact Decimal, at most two decimal places (分)."""

UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A point in time that carries its zone; normalised to UTC."""

Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Sm3Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Contract(BaseModel):
    """Base of every contract model: immutable, and unknown fields are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Money(Contract):
    amount: Amount
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"


def utc_now() -> datetime:
    return datetime.now(UTC)
