"""Who may do what to which archive record: roles scoped to a fonds, and time-bound grants."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from contracts.borrowing import GrantAction, mode_rule
from contracts.envelope import derived_event_id
from contracts.events import (
    MAX_BORROWING_DAYS,
    AccessGranted,
    AccessRevoked,
    ApprovalDecided,
)
from contracts.roles import ALL_FONDS, Role, allows, conflicts


@dataclass(frozen=True)
class RoleAssignment:
    user: str  # the name the holder goes by now (a display attribute)
    role: str
    fonds_code: str  # 全宗号: the scope of the role; "*" for every fonds (e.g. group audit)
    # Who holds it: the IdP's subject, bound when the person named ``user`` first signs in
    # (None until then). Not part of what the assignment says, so not of its equality.
    subject: str | None = field(default=None, compare=False)

    def covers(self, user: str, action: str, fonds: str | None) -> bool:
        in_scope = fonds is not None and self.fonds_code in (fonds, ALL_FONDS)
        return self.user == user and in_scope and allows(self.role, action)


def separation_of_duties(assignments: Iterable[RoleAssignment]) -> list[str]:
    """What breaks the role conflict table (``contracts.roles.ROLE_CONFLICTS``: 三员分立, and
    the administrators apart from business roles) or names a role no table knows."""
    assignments = list(assignments)
    known = set(Role.__members__.values())
    problems = [f"{a.user}: unknown role {a.role!r}" for a in assignments if a.role not in known]
    held: dict[str, set[str]] = {}
    for a in assignments:
        held.setdefault(a.user, set()).add(a.role)
    problems += [
        f"{user} holds {' and '.join(sorted(c.roles))}: {c.rule}"
        for user, roles in held.items()
        for c in conflicts(roles)
    ]
    return problems


class ChangeRefused(Exception):
    """The change would break a rule (三员分立, or a role no table knows)."""


def refuse_change(held: Iterable[RoleAssignment], change: RoleAssignment, *, by: str) -> str | None:
    """Why assigning ``change`` is refused, or None: a role the table knows, never to oneself
    (the security administrator cannot widen their own powers), and 三员分立 kept."""
    if change.user == by:
        return f"{by}: nobody assigns roles to themself"
    problems = separation_of_duties([*held, change])
    return "; ".join(problems) or None


@dataclass(frozen=True)
class Grant:
    """A time-bound grant created by an approved borrowing request.

    It covers the records it names that belong to its fonds, the fonds whose OA system approved
    the request: whatever records an applicant names, another company's approver cannot open a
    fonds they do not decide for."""

    grant_id: uuid.UUID
    user: str
    actions: tuple[GrantAction, ...]
    fonds_code: str | None  # None: a grant made before requests were routed by fonds
    record_ids: tuple[uuid.UUID, ...]
    valid_from: datetime
    valid_until: datetime
    request_id: uuid.UUID
    revoked_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and self.valid_from <= now < self.valid_until

    def names(self, user: str, record_id: uuid.UUID, record_fonds: str | None) -> bool:
        """Whether the grant is ``user``'s and covers the record (of fonds ``record_fonds``,
        None while unknown), active or not."""
        in_fonds = self.fonds_code is None or record_fonds == self.fonds_code
        return self.user == user and record_id in self.record_ids and in_fonds

    def granted(self) -> AccessGranted:
        return AccessGranted(
            grant_id=self.grant_id,
            user=self.user,
            actions=self.actions,
            fonds_code=self.fonds_code,
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
            request_id=self.request_id,
        )

    def withdrawn(self, by: str, at: datetime, *, in_oa: bool = False) -> AccessRevoked:
        """Ended before its time by the security administrator, or (``in_oa``) because the OA
        withdrew the approval it came from (通过后撤销)."""
        return AccessRevoked(
            grant_id=self.grant_id,
            user=self.user,
            record_ids=self.record_ids,
            reason="withdrawn_in_oa" if in_oa else "withdrawn",
            revoked_at=at,
            revoked_by=by,
            request_id=self.request_id,
        )


def grant_id_of(request_id: uuid.UUID) -> uuid.UUID:
    """The one grant a borrowing request can make."""
    return derived_event_id(request_id, AccessGranted, "grant")


def grant_for(decided: ApprovalDecided) -> Grant | None:
    """An approved borrowing becomes a grant, whose id follows from the request: made once.

    It allows what the borrowing's mode allows (查阅: reading; 复制: copies too), and lasts the
    days the applicant asked for, never beyond the longest borrowing, whatever
    ``access_until`` the message carries (a later end is cut, an earlier one kept)."""
    if decided.decision != "approved" or decided.access_until is None:
        return None
    days = min(decided.days or MAX_BORROWING_DAYS, MAX_BORROWING_DAYS)
    return Grant(
        grant_id=grant_id_of(decided.request_id),
        user=decided.applicant,
        actions=mode_rule(decided.mode).actions,
        fonds_code=decided.fonds_code,
        record_ids=decided.record_ids,
        valid_from=decided.decided_at,
        valid_until=min(decided.access_until, decided.decided_at + timedelta(days=days)),
        request_id=decided.request_id,
    )


@dataclass(frozen=True)
class CheckResult:
    allowed: bool
    reason: str
    # False while this service has not heard of the record: its owner archived it a moment
    # ago (RecordArchived not yet consumed), or it does not exist.
    record_known: bool = True
    grant_id: uuid.UUID | None = None  # the grant that allows, when one does (not a role)


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
    mine = [g for g in grants if g.names(user, record_id, record_fonds)]
    for g in mine:
        if action in g.actions and g.active(now):
            until = g.valid_until.isoformat()
            return CheckResult(True, f"grant {g.grant_id} until {until}", grant_id=g.grant_id)
    expired = [g for g in mine if not g.active(now)]
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
    record_fonds: Mapping[uuid.UUID, str],
    now: datetime,
) -> Visibility:
    """Whole fonds by role; single records by the user's active grants, each record only if
    it is of the grant's fonds (``record_fonds``: what is known of the granted records)."""
    mine = [r for r in roles if r.user == user and allows(r.role, action)]
    return Visibility(
        all_fonds=any(r.fonds_code == ALL_FONDS for r in mine),
        fonds=tuple(sorted({r.fonds_code for r in mine if r.fonds_code != ALL_FONDS})),
        record_ids=tuple(
            sorted(
                {
                    rid
                    for g in grants
                    if action in g.actions and g.active(now)
                    for rid in g.record_ids
                    if g.names(user, rid, record_fonds.get(rid))
                },
                key=str,
            )
        ),
    )
