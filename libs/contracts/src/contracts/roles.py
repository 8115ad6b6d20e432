"""The roles of the platform and what each may do: one table, read by every service.

Business roles are held in a fonds (全宗), or in every fonds (``ALL_FONDS``). The three
administrative roles follow 三员分立 (GB/T 22239 等保 2.0): nobody holds two of them, and none
reads a record, an original or (but for the security auditor) the audit trail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

ALL_FONDS = "*"

# What a principal's name (the token's ``preferred_username``, the key of role assignments) may
# be: lower-case letters, digits and ``. _ @ -``, beginning with a letter or a digit, at most 64.
# A name is put into URLs and audit entries; ``secauditor#x`` or ``x/../secauditor`` would be
# read as another principal's by whatever parses them. The local realm refuses other usernames,
# and every service refuses a token naming one (401).
PRINCIPAL_NAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
PRINCIPAL_NAME_RULE = "1–64 of a-z, 0-9 and . _ @ -, beginning with a letter or digit"
# A client's own principal (a service, the ERP or an OA integration) is its service account,
# named as the IdP names it (Keycloak: service-account-<client id>). Clients are no people: they
# neither borrow nor hold grants.
CLIENT_PRINCIPAL_PREFIX = "service-account-"


def is_client(principal: str) -> bool:
    """Whether ``principal`` names a client's service account, not a person."""
    return principal.startswith(CLIENT_PRINCIPAL_PREFIX)


class Role(StrEnum):
    ACCOUNTANT = "accountant"  # 会计人员: uploads, hands over to the archive
    ARCHIVIST = "archivist"  # 档案管理员: accepts handovers, reviews, holds, registers
    AUDITOR = "auditor"  # 审计人员 (internal or external): records and trail of their fonds
    ERP_INTEGRATION = "erp_integration"  # the ERP's client: uploads only
    OA_INTEGRATION = "oa_integration"  # an OA system: decisions only (over Kafka or callback)
    SYSTEM_ADMIN = "system_admin"  # 系统管理员: configuration and health
    SECURITY_ADMIN = "security_admin"  # 安全管理员: assigns roles, withdraws grants
    SECURITY_AUDITOR = "security_auditor"  # 安全审计员: reads the whole audit trail


class Action(StrEnum):
    READ = "read"  # see a record
    DOWNLOAD = "download"  # fetch its originals
    HOLD = "hold"  # place and release legal holds
    HAND_OVER = "hand_over"  # 移交: the accounting side hands a year's records over
    ACCEPT_HANDOVER = "accept_handover"  # 接收: the archive side accepts after its re-check
    REVIEW = "review"  # decide a record held for review
    UPLOAD = "upload"  # bring vouchers in (ingest)
    READ_TRAIL = "read_trail"  # the audit trail
    READ_USAGE = "read_usage"  # the usage register (利用登记簿) the archivists keep
    REGISTER_PAPER = "register_paper"  # the register of paper archives kept beside the records
    ASSIGN_ROLES = "assign_roles"  # assign and revoke roles, withdraw grants
    REDRIVE = "redrive"  # hand a service's dead letters to their handlers again


ROLE_ACTIONS: Mapping[Role, frozenset[Action]] = {
    Role.ACCOUNTANT: frozenset({Action.READ, Action.UPLOAD, Action.HAND_OVER}),
    Role.ARCHIVIST: frozenset(
        {
            Action.READ,
            Action.DOWNLOAD,
            Action.HOLD,
            Action.ACCEPT_HANDOVER,
            Action.REVIEW,
            Action.READ_USAGE,
            Action.REGISTER_PAPER,
        }
    ),
    Role.AUDITOR: frozenset({Action.READ, Action.READ_TRAIL}),
    Role.ERP_INTEGRATION: frozenset({Action.UPLOAD}),
    Role.OA_INTEGRATION: frozenset(),
    Role.SYSTEM_ADMIN: frozenset({Action.REDRIVE}),
    Role.SECURITY_ADMIN: frozenset({Action.ASSIGN_ROLES}),
    Role.SECURITY_AUDITOR: frozenset({Action.READ_TRAIL}),
}
ADMINISTRATORS = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.SECURITY_AUDITOR})
BUSINESS_ROLES = frozenset(Role) - ADMINISTRATORS


@dataclass(frozen=True)
class Conflict:
    """Two roles that no principal holds together, in any fonds, and the rule that says so."""

    roles: frozenset[Role]
    rule: str


_THREE = "no principal holds two of the three administrative roles (三员分立)"
_APART = "an administrator keeps the system, not its records: no business role (三员分立)"
# Every pair of roles that may not meet in one principal (409 naming the row). An exception,
# such as the system administrator as the IT member of a destruction's supervision (监销, to come
# with the lifecycle), is a row taken out of this table with its clause, not a test in code.
ROLE_CONFLICTS: tuple[Conflict, ...] = (
    Conflict(frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN}), _THREE),
    Conflict(frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_AUDITOR}), _THREE),
    Conflict(frozenset({Role.SECURITY_ADMIN, Role.SECURITY_AUDITOR}), _THREE),
    *(
        Conflict(frozenset({admin, business}), _APART)
        for admin in sorted(ADMINISTRATORS)
        for business in sorted(BUSINESS_ROLES)
    ),
)


def conflicts(held: Iterable[str]) -> list[Conflict]:
    """The rows of ``ROLE_CONFLICTS`` that the roles ``held`` (names as stored) break."""
    names = set(held)
    return [c for c in ROLE_CONFLICTS if {r.value for r in c.roles} <= names]


def allows(role: str, action: str) -> bool:
    """Whether ``role`` (a name as stored) may do ``action``; an unknown role may do nothing."""
    return role in Role.__members__.values() and action in ROLE_ACTIONS[Role(role)]


def fonds_where(held: Iterable[tuple[str, str]], action: str) -> frozenset[str]:
    """The fonds in which (role, fonds) pairs allow ``action``; ``ALL_FONDS`` among them
    means every fonds."""
    return frozenset(fonds for role, fonds in held if allows(role, action))
