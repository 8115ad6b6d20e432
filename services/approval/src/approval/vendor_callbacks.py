"""The OA vendors' own callbacks (钉钉, 飞书, 企业微信): verified and decrypted as each vendor
documents, then taken as decisions on the requests whose OA instances they name.

What a callback reports about an approval the archive did not start (another process, an
instance it does not know) is answered as the vendor expects and otherwise left alone. Each
vendor event is taken once: by its id, or the id derived from instance, status and time.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import structlog

from approval.domain.borrowing import (
    Decision,
    DecisionConflict,
    UnmappedApprover,
    oa_principal,
)
from approval.domain.oa_states import Outcome
from approval.expense_approvals import ExpenseApprovals
from approval.ports import RequestStore
from approval.service import ApprovalService
from approval.vendors.connection import VendorConnection
from approval.vendors.events import OaInstance, Received, Step, VendorEvent
from approval.vendors.wecom import WeComCallbacks
from contracts.events import ApprovalStep

log = structlog.get_logger()


class UnknownConnection(Exception):
    """No OA connection of that name and vendor."""


@dataclass(frozen=True)
class Callback:
    """A vendor's HTTP request, as it arrived."""

    method: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes


class VendorCallbacks:
    def __init__(
        self,
        approval: ApprovalService,
        requests: RequestStore,
        connections: Mapping[str, VendorConnection],
        expenses: ExpenseApprovals,
    ) -> None:
        self._approval, self._requests, self._connections = approval, requests, connections
        self._expenses = expenses
        self._gates = {name: c.callbacks() for name, c in connections.items()}

    async def receive(self, connection: str, vendor: str, callback: Callback) -> Received:
        """The answer the vendor expects, once every event the callback reported is taken.
        Refusals: ``CallbackRefused`` (signature, key, time, form), ``UnknownState``,
        ``UnmappedApprover``, ``SelfApproval``: the vendor is answered with an error and no
        decision is taken."""
        config = self._connections.get(connection)
        if config is None or config.vendor != vendor:
            raise UnknownConnection(f"no {vendor} OA connection named {connection!r}")
        gate, now = self._gates[connection], time.time()
        if callback.method == "GET" and isinstance(gate, WeComCallbacks):
            return gate.verify_url(callback.query, now)
        received = gate.receive(callback.query, callback.headers, callback.body, now)
        for event in received.events:
            await self._take(connection, config, event)
        return received

    async def _take(self, connection: str, config: VendorConnection, event: VendorEvent) -> None:
        where = {"oa_connection": connection, "oa_instance": event.instance_id}
        if event.process_code not in config.processes:
            log.info("OA approval of another process left alone", process=event.process_code)
            return
        if config.processes[event.process_code] == "expense":
            # Archived once approved (WeCom's 已支付 comes after 已通过: the record says which
            # it saw first); its other states are the OA's business.
            if event.outcome is Outcome.APPROVED:
                await self._expenses.finished(connection, config, event)
            return
        instance = await self._requests.instance(connection, event.instance_id)
        if instance is None:
            log.info("OA instance the archive did not start left alone", **where)
            return
        if event.event_id in instance.events:
            log.info("OA event taken before", event_id=event.event_id, **where)
            return
        if event.outcome is not None:
            await self._decide(connection, config, event, event.outcome, instance)
        await self._requests.record_event(
            connection,
            event.instance_id,
            event.event_id,
            event.steps if event.outcome is None else (),
        )

    async def _decide(
        self,
        connection: str,
        config: VendorConnection,
        event: VendorEvent,
        outcome: Outcome,
        instance: OaInstance,
    ) -> None:
        trail = event.steps or instance.trail
        actor = event.actor or _last(trail, outcome)
        approver = config.users.get(actor or "")
        if approver is None:
            if outcome is Outcome.APPROVED:
                # No approver reported yet (DingTalk's and Feishu's task events name them, and
                # may arrive after the instance's): refused, so the vendor sends it again.
                who = f"OA user {actor}" if actor else "no approver reported yet"
                raise UnmappedApprover(
                    f"approved in {connection}, {who}: mapped to no platform principal, so no "
                    "access on their word"
                )
            # It takes access away, or grants none.
            approver = oa_principal(config.users, connection, actor) if actor else connection
        decision = Decision(
            request_id=instance.request_id,
            oa_connection=connection,
            outcome=outcome,
            approver=approver,
            comment=event.comment or next((s.comment for s in reversed(trail) if s.comment), ""),
            oa_instance_id=event.instance_id,
            decided_at=event.occurred_at,
            trail=tuple(_step(s, config.users, connection) for s in trail),
        )
        try:
            await self._approval.apply(decision, None)
        except DecisionConflict as conflict:
            # The vendor would resend forever: the refusal is the flow's, and logged.
            log.warning("OA event against the request's state ignored", reason=str(conflict))


def _last(trail: tuple[Step, ...], outcome: Outcome) -> str | None:
    """The OA user whose step decided: the last approver of an approval, or of a rejection."""
    wanted = {Outcome.APPROVED: "approved", Outcome.REJECTED: "rejected"}.get(outcome)
    return next((s.oa_user_id for s in reversed(trail) if s.decision == wanted), None)


def _step(step: Step, users: Mapping[str, str], connection: str) -> ApprovalStep:
    return ApprovalStep(
        approver=oa_principal(users, connection, step.oa_user_id),
        oa_user_id=step.oa_user_id,
        decision=step.decision,
        comment=step.comment,
        decided_at=step.at,
    )
