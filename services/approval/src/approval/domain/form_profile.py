"""Field-mapping profiles: how an on-premise OA's own JSON form (泛微 e-cology, 致远 A8, 蓝凌 EKP…)
says a decision, so that a customer connects a new OA by writing a profile, not code.

A profile names, for each part of a decision, the dotted path of the OA's field that holds it,
how the OA spells each decision, and how it writes the time (format and zone: OAs write local
time without a zone). Profiles ship in ``approval/profiles``; a connection names its own in
``AAP_APPROVAL_OA_PROFILES``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from approval.domain.oa_states import Outcome

BUILT_IN = Path(__file__).resolve().parents[1] / "profiles"
PARTS = ("request_id", "decision", "approver", "oa_instance_id")


class Clock(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    format: str
    zone: str


class DecisionProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str = ""
    fields: dict[str, str]  # request_id, decision, approver, comment, oa_instance_id,
    # decided_date, decided_time (or decided_at): the dotted path of the OA's field
    decisions: dict[str, Outcome]  # the OA's word → what it means
    decided_at: Clock


class NotThisProfile(Exception):
    """The body is not what the connection's profile describes: names the field."""


@dataclass(frozen=True)
class ProfiledDecision:
    request_id: uuid.UUID
    outcome: Outcome
    approver: str
    comment: str
    oa_instance_id: str
    decided_at: datetime


def load_profiles(*folders: Path) -> dict[str, DecisionProfile]:
    profiles = {}
    for folder in folders:
        for path in sorted(folder.glob("*.json")):
            profile = DecisionProfile.model_validate_json(path.read_text(encoding="utf-8"))
            profiles[profile.name] = profile
    return profiles


def read_decision(profile: DecisionProfile, body: bytes) -> ProfiledDecision:
    try:
        form = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise NotThisProfile(f"the body is not JSON: {str(error)[:80]}") from error
    if not isinstance(form, dict):
        raise NotThisProfile("the body is not a JSON object")

    def part(name: str, required: bool = True) -> str:
        path = profile.fields.get(name)
        value: Any = form
        for key in (path or "").split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if value is None or isinstance(value, dict | list):
            if required:
                raise NotThisProfile(f"{profile.name}: no {name} at {path!r}")
            return ""
        return str(value)

    word = part("decision")
    if word not in profile.decisions:
        known = ", ".join(sorted(profile.decisions))
        raise NotThisProfile(f"{profile.name}: decision {word[:40]!r} is not one of {known}")
    try:
        request_id = uuid.UUID(part("request_id"))
    except ValueError as error:
        raise NotThisProfile(f"{profile.name}: request_id is not a request's id") from error
    when = part("decided_at", False) or f"{part('decided_date')} {part('decided_time')}"
    try:
        local = datetime.strptime(when, profile.decided_at.format)
    except ValueError as error:
        raise NotThisProfile(
            f"{profile.name}: time {when[:40]!r} is not {profile.decided_at.format}"
        ) from error
    return ProfiledDecision(
        request_id=request_id,
        outcome=profile.decisions[word],
        approver=part("approver"),
        comment=part("comment", False),
        oa_instance_id=part("oa_instance_id"),
        decided_at=local.replace(tzinfo=ZoneInfo(profile.decided_at.zone)),
    )
