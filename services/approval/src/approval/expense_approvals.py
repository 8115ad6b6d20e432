"""Expense and payment approvals (报销审批, 付款审批) finished in a vendor's OA: their form and
approver trail are read from the vendor's API (the callbacks carry neither) and announced for
the archive, which keeps each as a record beside the voucher it justified."""

from __future__ import annotations

import re
from collections.abc import Mapping

import structlog

from approval.ports import Publisher
from approval.vendors.connection import ExpenseFiling, VendorConnection
from approval.vendors.events import VendorEvent
from approval.vendors.starters import InstanceDetail, VendorStarter
from contracts.envelope import derived_event_id, new_event
from contracts.events import BusinessKey, FormEntry, OaApprovalCompleted, OaStep

log = structlog.get_logger()
# Several numbers in one form field: separated by commas, semicolons, 、 or spaces.
SEPARATORS = re.compile(r"[,，;；、\s]+")


class ExpenseApprovals:
    def __init__(
        self, publisher: Publisher, apis: Mapping[str, VendorStarter], source: str
    ) -> None:
        self._publisher, self._apis, self._source = publisher, apis, source

    async def finished(self, connection: str, config: VendorConnection, event: VendorEvent) -> None:
        """Announce an approved expense approval once its details are read. Repeat-safe: one
        approval, one event id, whatever the vendor resends. ``OaStartFailed`` when the vendor
        cannot be read: the callback is answered with an error and the vendor sends it again."""
        assert config.expense is not None  # the connection's validation sees to it
        detail = await self._apis[connection].details(event.instance_id)
        completed = completed_approval(connection, config, config.expense, event, detail)
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
