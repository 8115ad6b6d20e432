"""Who may do what to which archive record: roles scoped to a fonds, and time-bound grants."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from contracts.envelope import derived_event_id
from contracts.events import AccessGranted, AccessRevoked, ApprovalDecided

Action = Literal["read", "download"]

# One table of what each role may do to records within the fonds it is assigned to.
ROLE_ACTIONS: Mapping[str, frozenset[str]] = {
    "archivist": frozenset({"read", "download", "hold", "handover", "review"}),  # 档案管理员
    "accountant": frozenset({"read"}),  # 会计人员: sees, but borrows to download
    "auditor": frozenset({"read"}),  # 审计人员: and the audit trail (audit service)
    # 三员分立 (GB/T 22239 等保 2.0): administrators, none of whom reads a record or original.
    "system_admin": frozenset(),  # 系统管理员: configuration and health
    "security_admin": frozenset(),  # 安全管理员: assigns roles, withdraws grants
    "security_auditor": frozenset(),  # 安全审计员: reads the whole audit trail, changes nothing
}
ADMINISTRATORS = frozenset({"system_admin", "security_admin", "security_auditor"})


ALL_FONDS = "*"


@dataclass(frozen=True)
class RoleAssignment:
    user: str
    role: str
    fonds_code: str  # 全宗号: the scope of the role; "*" for every fonds (e.g. group audit)

    def covers(self, user: str, action: str, fonds: str | None) -> bool:
        in_scope = fonds is not None and self.fonds_code in (fonds, ALL_FONDS)
        return self.user == user and in_scope and action in ROLE_ACTIONS.get(self.role, ())


def separation_of_duties(assignments: Iterable[RoleAssignment]) -> list[str]:
    """What breaks 三员分立 or names a role no table knows: nobody holds two of the three
    administrative roles."""
    problems = [
        f"{a.user}: unknown role {a.role!r}" for a in assignments if a.role not in ROLE_ACTIONS
    ]
    held: dict[str, set[str]] = {}
    for a in assignments:
        if a.role in ADMINISTRATORS:
            held.setdefault(a.user, set()).add(a.role)
    problems += [
        f"{user} holds {' and '.join(sorted(roles))}: no principal holds two of the three "
        "administrative roles (三员分立)"
        for user, roles in held.items()
        if len(roles) > 1
    ]
    return problems


@dataclass(frozen=True)
class Grant:
    """A time-bound grant created by an approved borrowing request."""

    grant_id: uuid.UUID
    user: str
    actions: tuple[Action, ...]
    record_ids: tuple[uuid.UUID, ...]
    valid_from: datetime
    valid_until: datetime
    request_id: uuid.UUID
    revoked_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and self.valid_from <= now < self.valid_until

    def granted(self) -> AccessGranted:
        return AccessGranted(
            grant_id=self.grant_id,
            user=self.user,
            actions=self.actions,
            record_ids=self.record_ids,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            request_id=self.request_id,
        )

    def revoked(self, at: datetime) -> AccessRevoked:
        return AccessRevoked(
            grant_id=self.grant_id,
            user=self.user,
            record_ids=self.record_ids,
            reason="expired",
            revoked_at=at,
        )


def grant_for(decided: ApprovalDecided) -> Grant | None:
    """An approved borrowing becomes a grant, whose id follows from the request: made once."""
    if decided.decision != "approved" or decided.access_until is None:
        return None
    return Grant(
        grant_id=derived_event_id(decided.request_id, AccessGranted, "grant"),
        user=decided.applicant,
        actions=("read", "download"),
        record_ids=decided.record_ids,
        valid_from=decided.decided_at,
        valid_until=decided.access_until,
        request_id=decided.request_id,
    )


@dataclass(frozen=True)
class CheckResult:
    allowed: bool
    reason: str
    # False while this service has not heard of the record: its owner archived it a moment
    # ago (RecordArchived not yet consumed), or it does not exist.
    record_known: bool = True


def check(
    *,
    user: str,
    action: str,
    record_id: uuid.UUID,
    record_fonds: str | None,
    roles: Iterable[RoleAssignment],
    grants: Iterable[Grant],
    now: datetime,
) -> CheckResult:
    """Allow if a role in the record's fonds, or an active grant on it, covers the action."""
    for r in roles:
        if r.covers(user, action, record_fonds):
            return CheckResult(True, f"role {r.role} in fonds {r.fonds_code}")
    for g in grants:
        if g.user == user and record_id in g.record_ids and action in g.actions and g.active(now):
            return CheckResult(True, f"grant {g.grant_id} until {g.valid_until.isoformat()}")
    expired = [
        g for g in grants if g.user == user and record_id in g.record_ids and not g.active(now)
    ]
    if expired:
        return CheckResult(False, f"grant {expired[0].grant_id} is no longer active")
    if record_fonds is None:
        # Records become known from RecordArchived: a moment after archiving, or never.
        return CheckResult(False, f"record {record_id} is not (yet) known as archived", False)
    return CheckResult(False, f"no role or grant lets {user} {action} record {record_id}")


@dataclass(frozen=True)
class Visibility:
    """What a user may see: whole fonds by role, and single records by active grants."""

    all_fonds: bool
    fonds: tuple[str, ...]
    record_ids: tuple[uuid.UUID, ...]


def visibility(
    *,
    user: str,
    action: str,
    roles: Iterable[RoleAssignment],
    grants: Iterable[Grant],
    now: datetime,
) -> Visibility:
    mine = [r for r in roles if r.user == user and action in ROLE_ACTIONS.get(r.role, ())]
    return Visibility(
        all_fonds=any(r.fonds_code == ALL_FONDS for r in mine),
        fonds=tuple(sorted({r.fonds_code for r in mine if r.fonds_code != ALL_FONDS})),
        record_ids=tuple(
            sorted(
                {
                    rid
                    for g in grants
                    if g.user == user and action in g.actions and g.active(now)
                    for rid in g.record_ids
                },
                key=str,
            )
        ),
    )
