import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from contracts.borrowing import BorrowingMode
from contracts.events import ApprovalDecided
from permission.domain.access import (
    Grant,
    RoleAssignment,
    check,
    grant_for,
    separation_of_duties,
    visibility,
)

NOW = datetime(2025, 3, 5, 1, 0, tzinfo=UTC)
RECORD = uuid.uuid4()


def decided(
    verdict: str = "approved", days: int = 7, mode: BorrowingMode | None = "copy"
) -> ApprovalDecided:
    return ApprovalDecided(
        request_id=uuid.uuid4(),
        kind="borrowing",
        applicant="liuyang",
        fonds_code="Q001",
        record_ids=(RECORD,),
        decision=verdict,
        approver="王强",
        comment="",
        oa_instance_id="OA-1",
        decided_at=NOW,
        access_until=NOW + timedelta(days=days) if verdict == "approved" else None,
        mode=mode,
    )


def test_an_approval_becomes_one_grant_with_a_stable_id() -> None:
    d = decided()
    g1, g2 = grant_for(d), grant_for(d)
    assert g1 is not None and g2 is not None
    assert g1.grant_id == g2.grant_id
    assert g1.valid_until == NOW + timedelta(days=7)
    assert grant_for(decided("rejected")) is None


def test_a_grant_allows_what_its_mode_allows() -> None:
    """查阅 reads (pages rendered, never the bytes); 复制 downloads copies too; a request filed
    before modes were told apart keeps what it was approved as: reading and downloading."""
    as_granted = {mode: grant_for(decided(mode=mode)) for mode in ("view", "copy", None)}
    actions = {mode: g.actions if g else None for mode, g in as_granted.items()}
    assert actions == {
        "view": ("read",),
        "copy": ("read", "download"),
        None: ("read", "download"),
    }
    viewer = as_granted["view"]
    assert viewer is not None
    refused = check(
        user="liuyang",
        action="download",
        record_id=RECORD,
        record_fonds="Q001",
        roles=[],
        grants=[viewer],
        now=NOW,
    )
    assert not refused.allowed


def test_a_grant_lasts_the_days_asked_for_never_what_a_message_says_beyond_them() -> None:
    asked_for_seven = decided(days=7).model_copy(
        update={"days": 7, "access_until": NOW + timedelta(days=365 * 70)}
    )
    grant = grant_for(asked_for_seven)
    assert grant is not None and grant.valid_until == NOW + timedelta(days=7)
    unsaid = decided(days=7).model_copy(update={"access_until": NOW + timedelta(days=365 * 70)})
    grant = grant_for(unsaid)  # an older event without the days: the longest borrowing at most
    assert grant is not None and grant.valid_until == NOW + timedelta(days=90)


def test_a_grant_allows_only_its_user_records_actions_and_time() -> None:
    g = grant_for(decided())
    assert g is not None

    def ask(
        user: str = "liuyang",
        action: str = "download",
        record: uuid.UUID = RECORD,
        now: datetime = NOW + timedelta(days=1),
    ) -> bool:
        return check(
            user=user,
            action=action,
            record_id=record,
            record_fonds="Q001",
            roles=[],
            grants=[g],
            now=now,
        ).allowed

    assert ask()
    assert not ask(user="someone")
    assert not ask(record=uuid.uuid4())
    assert not ask(action="destroy")
    assert not ask(now=NOW + timedelta(days=7))  # valid_until is exclusive
    result = check(
        user="liuyang",
        action="download",
        record_id=RECORD,
        record_fonds="Q001",
        roles=[],
        grants=[g],
        now=NOW + timedelta(days=8),
    )
    assert "no longer active" in result.reason


def test_a_grant_covers_the_records_of_its_fonds_only() -> None:
    """The OA system deciding for Q001 approved: a record of Q002 named in the request, or one
    not known as archived, is not opened by it."""
    g = grant_for(decided())
    assert g is not None and g.fonds_code == "Q001"
    other = uuid.uuid4()
    g = replace(g, record_ids=(RECORD, other))
    later = NOW + timedelta(days=1)

    def ask(record: uuid.UUID, fonds: str | None, grant: Grant = g) -> bool:
        found = check(
            user="liuyang",
            action="read",
            record_id=record,
            record_fonds=fonds,
            roles=[],
            grants=[grant],
            now=later,
        )
        return found.allowed

    assert ask(RECORD, "Q001")
    assert not ask(other, "Q002")
    assert not ask(other, None)
    seen = visibility(
        user="liuyang",
        action="read",
        roles=[],
        grants=[g],
        record_fonds={RECORD: "Q001", other: "Q002"},
        now=later,
    )
    assert seen.record_ids == (RECORD,)
    # A grant made before requests were routed by fonds keeps covering what it named.
    assert ask(other, "Q002", grant=replace(g, fonds_code=None))


def test_roles_apply_within_their_fonds_only() -> None:
    roles = [
        RoleAssignment("zhaomin", "archivist", "Q001"),
        RoleAssignment("auditor1", "auditor", "Q001"),
    ]

    def ask(user: str, action: str, fonds: str | None) -> bool:
        return check(
            user=user,
            action=action,
            record_id=RECORD,
            record_fonds=fonds,
            roles=roles,
            grants=[],
            now=NOW,
        ).allowed

    assert ask("zhaomin", "download", "Q001")
    assert not ask("zhaomin", "download", "Q002")
    assert not ask("zhaomin", "download", None)  # a record we have not heard of
    assert ask("auditor1", "read", "Q001")
    assert not ask("auditor1", "download", "Q001")


def test_a_record_not_heard_of_is_refused_saying_so_not_as_a_missing_role() -> None:
    archivist = RoleAssignment("zhaomin", "archivist", "Q001")
    result = check(
        user="zhaomin",
        action="hold",
        record_id=RECORD,
        record_fonds=None,
        roles=[archivist],
        grants=[],
        now=NOW,
    )
    assert not result.allowed and not result.record_known
    assert result.reason == f"record {RECORD} is not (yet) known as archived"


def test_nobody_holds_two_of_the_three_administrative_roles() -> None:
    ok = [
        RoleAssignment("sysadmin", "system_admin", "*"),
        RoleAssignment("secadmin", "security_admin", "*"),
        RoleAssignment("secauditor", "security_auditor", "*"),
        RoleAssignment("zhaomin", "archivist", "Q001"),
    ]
    assert separation_of_duties(ok) == []
    both = [*ok, RoleAssignment("secadmin", "security_auditor", "*")]
    assert separation_of_duties(both) == [
        "secadmin holds security_admin and security_auditor: no principal holds two of the "
        "three administrative roles (三员分立)"
    ]
    assert separation_of_duties([RoleAssignment("x", "superuser", "*")]) == [
        "x: unknown role 'superuser'"
    ]


def test_no_administrator_holds_a_business_role_in_any_fonds() -> None:
    """The security administrator once made the system administrator archivist of every fonds
    and the security auditor archivist of Q001, and both then read Q001's records."""
    for admin, role in (("sysadmin", "system_admin"), ("secauditor", "security_auditor")):
        for business in ("archivist", "accountant", "auditor", "erp_integration"):
            held = [RoleAssignment(admin, role, "*"), RoleAssignment(admin, business, "Q001")]
            assert separation_of_duties(held) == [
                f"{admin} holds {' and '.join(sorted((role, business)))}: an administrator "
                "keeps the system, not its records: no business role (三员分立)"
            ]


def test_administrators_read_no_record() -> None:
    record = uuid.uuid4()
    for role in ("system_admin", "security_admin", "security_auditor"):
        result = check(
            user="admin",
            action="read",
            record_id=record,
            record_fonds="Q001",
            roles=[RoleAssignment("admin", role, "*")],
            grants=[],
            now=datetime.now(UTC),
        )
        assert not result.allowed, role
