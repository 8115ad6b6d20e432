"""What a vendor's callback says, once verified and decrypted: the same shape for every vendor."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from approval.domain.oa_callback import clock_skew
from approval.domain.oa_states import Outcome
from approval.vendors.refusals import CallbackRefused

StepDecision = Literal["approved", "rejected", "pending", "redirected", "cancelled"]


@dataclass(frozen=True)
class Step:
    """One approver's step in the OA's trail, with the OA's own user id."""

    oa_user_id: str
    decision: StepDecision
    comment: str = ""
    at: datetime | None = None


@dataclass(frozen=True)
class VendorEvent:
    """One approval change the OA reported.

    ``event_id``: the vendor's, or derived from instance, status and change time where the
    vendor sends none (DingTalk's and WeCom's pushes). ``outcome`` is None for a per-approver
    event (its ``steps`` only); ``actor`` is the OA user the outcome is due to, where said."""

    event_id: str
    instance_id: str
    process_code: str
    occurred_at: datetime
    outcome: Outcome | None = None
    steps: tuple[Step, ...] = ()
    actor: str | None = None
    comment: str = ""


@dataclass(frozen=True)
class OaInstance:
    """An OA approval instance the archive started, as the approval service keeps it."""

    request_id: uuid.UUID
    trail: tuple[Step, ...]
    events: frozenset[str]


@dataclass(frozen=True)
class Received:
    """A callback's answer to the vendor, and what it reported (nothing, for a URL check)."""

    reply: bytes
    media_type: str
    events: tuple[VendorEvent, ...] = field(default=())


def fresh(timestamp: str, now: float) -> None:
    """Refuses a callback whose timestamp (seconds or milliseconds) is not within the window."""
    try:
        sent = int(timestamp)
    except ValueError as error:
        raise CallbackRefused(f"timestamp {timestamp[:32]!r} is not a Unix time") from error
    seconds = sent / 1000 if sent > 10**11 else sent
    if stale := clock_skew(seconds, now):
        raise CallbackRefused(stale)


def required(params: Mapping[str, str], *names: str) -> list[str]:
    missing = [n for n in names if not params.get(n)]
    if missing:
        raise CallbackRefused(f"missing {', '.join(missing)}")
    return [params[n] for n in names]


def millis(value: object) -> datetime:
    """A vendor's time in milliseconds (number or digits), as UTC."""
    try:
        return datetime.fromtimestamp(int(str(value)) / 1000, UTC)
    except (ValueError, OverflowError, OSError) as error:
        raise CallbackRefused(f"time {str(value)[:32]!r} is not Unix milliseconds") from error


def seconds(value: object) -> datetime:
    try:
        return datetime.fromtimestamp(int(str(value)), UTC)
    except (ValueError, OverflowError, OSError) as error:
        raise CallbackRefused(f"time {str(value)[:32]!r} is not Unix seconds") from error


def json_object(raw: bytes | str, what: str) -> dict[str, Any]:
    """``raw`` as a JSON object, or a refusal naming ``what`` is wrong."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise CallbackRefused(f"{what} is not JSON: {str(error)[:80]}") from error
    if not isinstance(value, dict):
        raise CallbackRefused(f"{what} is not a JSON object")
    return value


def text(obj: Mapping[str, Any], name: str, what: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise CallbackRefused(f"{what} has no {name}")
    return value
