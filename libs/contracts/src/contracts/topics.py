"""The topic registry: every topic, the events on it, its key and its dead-letter topic.

Services take topic names from here only. A namespace (``AAP_NAMESPACE``) prefixes every name,
so that several environments or test runs can share one Kafka cluster.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from contracts.envelope import EventData
from contracts.events import (
    AccessGranted,
    AccessRevoked,
    AccessRevokedV1,
    ApprovalDecided,
    ApprovalDecidedV1,
    ApprovalRecordLinked,
    ApprovalRequested,
    AssetDisposalRecorded,
    BackupTaken,
    CheckpointPublished,
    CorrectionLinked,
    CustodyExtended,
    DeadLettersRedriven,
    DocumentIngested,
    DocumentIngestedV1,
    DocumentRejected,
    GapWaived,
    HandoverSupervised,
    IntegrityAlertRaised,
    InvoiceVerified,
    LegalHoldPlaced,
    LegalHoldReleased,
    OaApprovalCompleted,
    OaDecisionMade,
    OaDecisionMadeV1,
    PaperVolumeRegistered,
    RecordArchived,
    RecordReviewed,
    RecordsAccessed,
    RecordsHandedOver,
    RecordsRestored,
    RoleAssigned,
    RoleRevoked,
    TrailExported,
)

DEAD_LETTER_SUFFIX = ".dlt"
OA_PRINCIPAL_PREFIX = "oa-"  # an OA connection's Kafka principal: oa-<connection>


def dead_letter_topic(topic: str, consumer: str) -> str:
    """The dead-letter topic of one consumer group on ``topic`` (a full name): its own, which
    only that consumer's principal writes, so that no other principal can hand it a letter."""
    return f"{topic}.{consumer}{DEAD_LETTER_SUFFIX}"


def is_service(principal: str) -> bool:
    """One of the platform's services, not an OA connection's principal."""
    return not principal.startswith(OA_PRINCIPAL_PREFIX)


def source_of(principal: str) -> str:
    """The CloudEvents ``source`` of a principal's events: ``/aap/<service>`` for the platform's
    services, ``/oa/<connection>`` for an OA connection (principal ``oa-<connection>``)."""
    if principal.startswith(OA_PRINCIPAL_PREFIX):
        return "/oa/" + principal.removeprefix(OA_PRINCIPAL_PREFIX)
    return f"/aap/{principal}"


@dataclass(frozen=True)
class Topic:
    base_name: str
    events: tuple[type[EventData], ...]
    key: str
    owner: str  # the one principal that writes it: a service, or an OA connection (oa-<name>)
    consumers: tuple[str, ...]  # the principals that read it (each in its own group)
    partitions: int = 3
    # A topic an event's new version replaced: written by no one (no ACL lets its owner write
    # any more), read by its consumers until they have drained it.
    retired: bool = False

    def name(self, namespace: str) -> str:
        return f"{namespace}.{self.base_name}" if namespace else self.base_name

    def dead_letter(self, namespace: str, consumer: str) -> str:
        """Where ``consumer``'s group sets aside what it cannot take from this topic."""
        return dead_letter_topic(self.name(namespace), consumer)

    def dead_letters(self, namespace: str) -> dict[str, str]:
        """Each service consumer's dead-letter topic, by consumer. An OA connection reads its
        requests with its own software and sets nothing aside here: it writes no dead letters."""
        return {c: self.dead_letter(namespace, c) for c in self.consumers if is_service(c)}

    def produced_by(self, source: str) -> bool:
        """Whether an event saying it comes from ``source`` may be on this topic: its owner's
        (the broker's ACLs already let no one else write it; this is defence in depth)."""
        return source == source_of(self.owner)


DOCUMENTS_INGESTED = Topic(
    "aap.ingest.document-ingested.v2",
    (DocumentIngested,),
    "document_id",
    "ingest",
    ("archive", "audit"),
)
# Version 1 (vouchers only) is no longer written; the archive still reads what it holds.
DOCUMENTS_INGESTED_V1 = Topic(
    "aap.ingest.document-ingested.v1",
    (DocumentIngestedV1,),
    "document_id",
    "ingest",
    ("archive", "audit"),
    retired=True,
)
DOCUMENTS_REJECTED = Topic(
    "aap.ingest.document-rejected.v1", (DocumentRejected,), "submission_id", "ingest", ("audit",)
)
INVOICES_VERIFIED = Topic(
    "aap.ingest.invoice-verified.v1", (InvoiceVerified,), "document_id", "ingest", ("audit",)
)
RECORDS_ARCHIVED = Topic(
    "aap.archive.record-archived.v1",
    (RecordArchived,),
    "record_id",
    "archive",
    ("archive", "permission", "approval", "audit"),
)
LEGAL_HOLDS_PLACED = Topic(
    "aap.archive.legal-hold-placed.v1", (LegalHoldPlaced,), "record_id", "archive", ("audit",)
)
LEGAL_HOLDS_RELEASED = Topic(
    "aap.archive.legal-hold-released.v1", (LegalHoldReleased,), "record_id", "archive", ("audit",)
)
REVIEWS = Topic(
    "aap.archive.record-reviewed.v1",
    (RecordReviewed,),
    "record_id",
    "archive",
    ("archive", "audit"),
)
HANDOVERS = Topic(
    "aap.archive.records-handed-over.v1", (RecordsHandedOver,), "handover_id", "archive", ("audit",)
)
CUSTODY_EXTENSIONS = Topic(
    "aap.archive.custody-extended.v1", (CustodyExtended,), "fonds_code", "archive", ("audit",)
)
ASSET_DISPOSALS = Topic(
    "aap.archive.asset-disposal-recorded.v1",
    (AssetDisposalRecorded,),
    "record_id",
    "archive",
    ("audit",),
)
CORRECTIONS_LINKED = Topic(
    "aap.archive.correction-linked.v1",
    (CorrectionLinked,),
    "correction_record_id",
    "archive",
    ("audit",),
)
PAPER_VOLUMES = Topic(
    "aap.archive.paper-volume-registered.v1",
    (PaperVolumeRegistered,),
    "volume_id",
    "archive",
    ("audit",),
)
HANDOVERS_SUPERVISED = Topic(
    "aap.archive.handover-supervised.v1", (HandoverSupervised,), "offer_id", "archive", ("audit",)
)
GAPS_WAIVED = Topic("aap.archive.gap-waived.v1", (GapWaived,), "fonds_code", "archive", ("audit",))
INTEGRITY_ALERTS = Topic(
    "aap.archive.integrity-alert-raised.v1",
    (IntegrityAlertRaised,),
    "record_id",
    "archive",
    ("audit",),
)
APPROVALS_DECIDED = Topic(
    "aap.approval.decided.v2",
    (ApprovalDecided,),
    "request_id",
    "approval",
    ("archive", "permission", "audit"),
)
# Version 1 is no longer written; its consumers still read what it holds (upcast to version 2).
APPROVALS_DECIDED_V1 = Topic(
    "aap.approval.decided.v1",
    (ApprovalDecidedV1,),
    "request_id",
    "approval",
    ("archive", "permission", "audit"),
    retired=True,
)
# Expense and payment approvals finished in an OA: the archive keeps each as a record.
OA_APPROVALS_COMPLETED = Topic(
    "aap.approval.oa-approval-completed.v1",
    (OaApprovalCompleted,),
    "approval_key",
    "approval",
    ("archive", "audit"),
)
APPROVAL_RECORDS_LINKED = Topic(
    "aap.archive.approval-record-linked.v1",
    (ApprovalRecordLinked,),
    "voucher_record_id",
    "archive",
    ("audit",),
)
ACCESS_GRANTED = Topic(
    "aap.permission.access-granted.v1", (AccessGranted,), "grant_id", "permission", ("audit",)
)
ACCESS_REVOKED = Topic(
    "aap.permission.access-revoked.v2", (AccessRevoked,), "grant_id", "permission", ("audit",)
)
ACCESS_REVOKED_V1 = Topic(
    "aap.permission.access-revoked.v1",
    (AccessRevokedV1,),
    "grant_id",
    "permission",
    ("audit",),
    retired=True,
)
# Each service that decides by roles keeps them cached and forgets a principal's on a change.
ROLES_ASSIGNED = Topic(
    "aap.permission.role-assigned.v1",
    (RoleAssigned,),
    "user",
    "permission",
    ("permission", "ingest", "audit"),  # the permission service's replicas follow each other
)
ROLES_REVOKED = Topic(
    "aap.permission.role-revoked.v1",
    (RoleRevoked,),
    "user",
    "permission",
    ("permission", "ingest", "audit"),
)
ROLE_CHANGES = (ROLES_ASSIGNED, ROLES_REVOKED)
# Every read of archive records, and every export of the trail: the audit log keeps them.
RECORDS_ACCESSED = Topic(
    "aap.archive.records-accessed.v1", (RecordsAccessed,), "principal", "archive", ("audit",)
)
TRAIL_EXPORTS = Topic(
    "aap.audit.trail-exported.v1", (TrailExported,), "principal", "audit", ("audit",)
)
# For monitors and witnesses outside the platform; the audit log does not record its own.
CHECKPOINTS = Topic(
    "aap.audit.checkpoint-published.v1", (CheckpointPublished,), "origin", "audit", ()
)

# What the platform's operators do to it as a whole (a backup taken, a backup restored),
# written by the operations principal the backup tool signs in as, kept by the audit log.
OPERATIONS = "operations"
BACKUPS = Topic(
    "aap.operations.backups.v1",
    (BackupTaken, RecordsRestored),
    "backup_id",
    OPERATIONS,
    ("audit",),
    partitions=1,
)

PLATFORM_TOPICS: tuple[Topic, ...] = (
    DOCUMENTS_INGESTED,
    DOCUMENTS_INGESTED_V1,
    DOCUMENTS_REJECTED,
    INVOICES_VERIFIED,
    RECORDS_ARCHIVED,
    LEGAL_HOLDS_PLACED,
    LEGAL_HOLDS_RELEASED,
    REVIEWS,
    HANDOVERS,
    HANDOVERS_SUPERVISED,
    PAPER_VOLUMES,
    CUSTODY_EXTENSIONS,
    GAPS_WAIVED,
    ASSET_DISPOSALS,
    CORRECTIONS_LINKED,
    INTEGRITY_ALERTS,
    APPROVALS_DECIDED,
    APPROVALS_DECIDED_V1,
    OA_APPROVALS_COMPLETED,
    APPROVAL_RECORDS_LINKED,
    ACCESS_GRANTED,
    ACCESS_REVOKED,
    ACCESS_REVOKED_V1,
    ROLES_ASSIGNED,
    ROLES_REVOKED,
    RECORDS_ACCESSED,
    TRAIL_EXPORTS,
    CHECKPOINTS,
    BACKUPS,
)


@dataclass(frozen=True)
class OaConnection:
    """One OA system connected to the platform (OA 连接), e.g. a company's 致远 Seeyon.

    It has a Kafka principal of its own and two topics of its own: it reads only the borrowing
    requests routed to it, and writes decisions only on its own topic, so one OA system cannot
    decide for another. Which connections exist is configuration (``AAP_OA_CONNECTIONS``)."""

    name: str

    @property
    def principal(self) -> str:
        return OA_PRINCIPAL_PREFIX + self.name

    @property
    def source(self) -> str:
        return source_of(self.principal)

    @property
    def requests(self) -> Topic:
        return Topic(
            f"aap.approval.requested.{self.name}.v1",
            (ApprovalRequested,),
            "request_id",
            "approval",
            (self.principal, "audit"),
        )

    @property
    def decisions(self) -> Topic:
        return Topic(
            f"aap.oa.{self.name}.decision-made.v2",
            (OaDecisionMade,),
            "request_id",
            self.principal,
            ("approval", "audit"),
        )

    @property
    def decisions_v1(self) -> Topic:
        """Version 1, for OA systems that still publish it: still theirs to write."""
        return Topic(
            f"aap.oa.{self.name}.decision-made.v1",
            (OaDecisionMadeV1,),
            "request_id",
            self.principal,
            ("approval", "audit"),
        )


SERVICES = ("ingest", "archive", "approval", "permission", "audit")


def redrives(service: str) -> Topic:
    """A service's record of re-driving its dead letters: one topic per service, so that each
    writes only its own, and the audit log keeps them like every other event."""
    return Topic(
        f"aap.{service}.dead-letters-redriven.v1",
        (DeadLettersRedriven,),
        "group",
        service,
        ("audit",),
        partitions=1,
    )


def topics(connections: Iterable[str]) -> tuple[Topic, ...]:
    """Every topic: the platform's own, each service's re-drives, each OA connection's three."""
    per_connection = (OaConnection(c) for c in connections)
    return (
        PLATFORM_TOPICS
        + tuple(redrives(s) for s in SERVICES)
        + tuple(t for c in per_connection for t in (c.requests, c.decisions, c.decisions_v1))
    )


_BY_EVENT = {event: topic for topic in PLATFORM_TOPICS for event in topic.events}


def topic_for(event: type[EventData]) -> Topic:
    """The one topic an event type is published on (not an OA connection's: those depend on
    the connection, see ``OaConnection``)."""
    return _BY_EVENT[event]


def all_topic_names(namespace: str, connections: Iterable[str]) -> list[str]:
    """Every topic and dead-letter topic to create for a namespace."""
    return [
        n
        for t in topics(connections)
        for n in (t.name(namespace), *t.dead_letters(namespace).values())
    ]
