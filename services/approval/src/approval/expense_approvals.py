"""Expense and payment approvals (报销审批, 付款审批) finished in a vendor's OA: their form and
approver trail are read from the vendor's API (the callbacks carry neither) and announced for
the archive, which keeps each as a record beside the voucher it justified."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field

from approval.ports import Publisher
from approval.vendors.connection import ExpenseFiling, VendorConnection
from approval.vendors.events import VendorEvent
from approval.vendors.starters import InstanceDetail, VendorStarter
from contracts.envelope import derived_event_id, new_event
from contracts.events import BusinessKey, FormEntry, OaApprovalCompleted, OaStep
from contracts.types import UtcDatetime

log = structlog.get_logger()
# Several numbers in one form field: separated by commas, semicolons, 、 or spaces.
SEPARATORS = re.compile(r"[,，;；、\s]+")


class NoExpenseFiling(Exception):
    """The connection files no expense approvals: its administrator configures where."""


class PostedApproval(BaseModel):
    """An expense or payment approval as an on-premise OA posts it (signed callback): the form
    and trail as the OA holds them. The OA's user ids are its own: they are no principals."""

    model_config = ConfigDict(extra="forbid")

    instance_id: str = Field(min_length=1, max_length=128)
    process_code: str = Field(default="", max_length=128)
    title: str = Field(max_length=500)
    applicant: str = Field(max_length=128, description="The applicant's OA user id")
    outcome: Literal["approved", "paid"]
    form: tuple[FormEntry, ...] = Field(max_length=500)
    trail: tuple[OaStep, ...] = Field(max_length=200)
    started_at: UtcDatetime | None = None
    finished_at: UtcDatetime


class ExpenseApprovals:
    def __init__(
        self,
        publisher: Publisher,
        apis: Mapping[str, VendorStarter],
        source: str,
        filings: Mapping[str, ExpenseFiling] | None = None,
    ) -> None:
        self._publisher, self._apis, self._source = publisher, apis, source
        self._filings = filings or {}

    async def posted(self, connection: str, body: bytes) -> OaApprovalCompleted:
        """An approval an on-premise OA posted, signed by ``connection`` (checked before):
        announced as the vendors' are. ``NoExpenseFiling``, or pydantic's ValidationError
        naming the field that is wrong."""
        filing = self._filings.get(connection)
        if filing is None:
            raise NoExpenseFiling(
                f"OA connection {connection} files no expense approvals "
                "(AAP_APPROVAL_OA_EXPENSE_FILINGS)"
            )
        posted = PostedApproval.model_validate_json(body)
        form = posted.form
        completed = OaApprovalCompleted(
            approval_key=f"oa|{connection}|{posted.instance_id}",
            oa_connection=connection,
            vendor="oa",
            corp_id=connection,
            instance_id=posted.instance_id,
            process_code=posted.process_code,
            title=posted.title,
            fonds_code=filing.fonds_code,
            applicant=posted.applicant,
            outcome=posted.outcome,
            form=form,
            trail=tuple(s.model_copy(update={"principal": None}) for s in posted.trail),
            business_keys=business_keys(form, filing),
            started_at=posted.started_at,
            finished_at=posted.finished_at,
        )
        await self._announce(completed)
        return completed

    async def finished(self, connection: str, config: VendorConnection, event: VendorEvent) -> None:
        """Announce an approved expense approval once its details are read. Repeat-safe: one
        approval, one event id, whatever the vendor resends. ``OaStartFailed`` when the vendor
        cannot be read: the callback is answered with an error and the vendor sends it again."""
        assert config.expense is not None  # the connection's validation sees to it
        detail = await self._apis[connection].details(event.instance_id)
        await self._announce(completed_approval(connection, config, config.expense, event, detail))

    async def _announce(self, completed: OaApprovalCompleted) -> None:
        """Repeat-safe: one approval, one event id."""
        await self._publisher.publish(
            new_event(
                completed,
                source=self._source,
                subject=completed.approval_key,
                correlation_id=completed.approval_key,
                event_id=derived_event_id(completed.approval_key, OaApprovalCompleted),
            )
        )
        log.info("OA expense approval announced for archiving", approval=completed.approval_key)


def completed_approval(
    connection: str,
    config: VendorConnection,
    filing: ExpenseFiling,
    event: VendorEvent,
    detail: InstanceDetail,
) -> OaApprovalCompleted:
    form = tuple(FormEntry(label=label, value=value) for label, value in detail.form)
    return OaApprovalCompleted(
        approval_key=f"{config.vendor}|{config.corp_id}|{event.instance_id}",
        oa_connection=connection,
        vendor=config.vendor,
        corp_id=config.corp_id,
        instance_id=event.instance_id,
        process_code=event.process_code,
        title=detail.title or event.process_code,
        fonds_code=filing.fonds_code,
        applicant=detail.applicant,
        outcome="paid" if detail.paid else "approved",
        form=form,
        trail=tuple(
            OaStep(
                oa_user_id=s.oa_user_id,
                principal=config.users.get(s.oa_user_id),
                decision=s.decision,
                comment=s.comment,
                decided_at=s.at,
            )
            for s in detail.steps
        ),
        business_keys=business_keys(form, filing),
        started_at=detail.started_at,
        finished_at=event.occurred_at,
    )


def business_keys(form: tuple[FormEntry, ...], filing: ExpenseFiling) -> tuple[BusinessKey, ...]:
    """The keys the configured fields hold, each number once, in the form's order."""
    found: dict[tuple[str, str], BusinessKey] = {}
    for entry in form:
        kind = filing.keys.get(entry.label)
        if kind is None:
            continue
        for value in SEPARATORS.split(entry.value):
            if value and len(value) <= 64:
                found.setdefault((kind, value), BusinessKey(kind=kind, value=value))
    return tuple(found.values())
