"""Approval's use cases with in-memory stores: a request goes to the OA system deciding for its
fonds, on that system's own topic, and only that system's decision counts."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from approval.domain.borrowing import BorrowingRequest, Decision, NotRoutedHere
from approval.domain.routing import NoRoute, OaRoutes
from approval.service import ApprovalService
from contracts.envelope import Envelope, new_event
from contracts.events import OaDecisionMade
from contracts.oa_callback import signed_headers
from contracts.topics import OaConnection
from devkit.testing import RecordingPublisher

KEYS = {"seeyon": b"s" * 32, "weaver": b"w" * 32}


class Requests:
    def __init__(self) -> None:
        self.requests: dict[uuid.UUID, BorrowingRequest] = {}
        self.decisions: dict[uuid.UUID, Decision] = {}

    async def add(self, r: BorrowingRequest) -> None:
        self.requests[r.request_id] = r

    async def get(self, request_id: uuid.UUID) -> BorrowingRequest | None:
        r = self.requests.get(request_id)
        if r is None or (d := self.decisions.get(request_id)) is None:
            return r
        return r.decide(d)

    async def save_decision(self, decision: Decision) -> bool:
        return self.decisions.setdefault(decision.request_id, decision) is decision


class Nonces:
    def __init__(self) -> None:
        self.seen: set[str] = set()

    async def first_use(self, nonce: str) -> bool:
        fresh = nonce not in self.seen
        self.seen.add(nonce)
        return fresh


class Once:
    async def handle_once(self, event: Envelope[Any], work: Callable[[], Awaitable[None]]) -> bool:
        await work()
        return True


def service() -> tuple[ApprovalService, RecordingPublisher]:
    published = RecordingPublisher()
    routes = OaRoutes({"Q001": "seeyon", "*": "weaver"})
    approval = ApprovalService(
        Requests(), Nonces(), Once(), published, KEYS, routes, "/aap/approval"
    )
    return approval, published


async def filed(approval: ApprovalService, fonds: str) -> BorrowingRequest:
    return await approval.request_borrowing(
        applicant="liuyang", fonds_code=fonds, record_ids=[uuid.uuid4()], reason="审计", days=7
    )


def approved(request: BorrowingRequest) -> OaDecisionMade:
    return OaDecisionMade(
        request_id=request.request_id,
        decision="approved",
        approver="王强",
        oa_instance_id="OA-1",
        decided_at=datetime.now(UTC),
    )


async def test_a_request_goes_on_the_topic_of_the_oa_system_deciding_for_its_fonds() -> None:
    approval, published = service()
    q001, q777 = await filed(approval, "Q001"), await filed(approval, "Q777")
    assert (q001.oa_connection, q777.oa_connection) == ("seeyon", "weaver")
    assert published.topics == [OaConnection("seeyon").requests, OaConnection("weaver").requests]
    assert published.events[0].data.fonds_code == "Q001"


async def test_only_the_routed_oa_system_decides_by_topic_or_by_callback() -> None:
    approval, published = service()
    request = await filed(approval, "Q001")
    event = new_event(approved(request), source="/oa/weaver", subject="s", correlation_id="c")
    with pytest.raises(NotRoutedHere):
        await approval.on_oa_decision(event, "weaver")
    body = approved(request).model_dump_json().encode()
    headers = signed_headers("weaver", KEYS["weaver"], body)
    with pytest.raises(NotRoutedHere):
        await approval.on_signed_callback(
            body=body,
            key_id=headers["X-AAP-Key-Id"],
            timestamp=headers["X-AAP-Timestamp"],
            nonce=headers["X-AAP-Nonce"],
            signature=headers["X-AAP-Signature"],
        )
    assert [e.type for e in published.events] == ["cn.aap.ApprovalRequested.v1"]

    await approval.on_oa_decision(event.model_copy(update={"source": "/oa/seeyon"}), "seeyon")
    decided = published.events[-1].data
    assert decided.decision == "approved" and decided.fonds_code == "Q001"
    assert json.loads(published.events[-1].model_dump_json())["data"]["fonds_code"] == "Q001"


async def test_a_fonds_no_oa_system_decides_for_is_refused_with_its_name() -> None:
    approval = ApprovalService(
        Requests(),
        Nonces(),
        Once(),
        RecordingPublisher(),
        KEYS,
        OaRoutes({"Q001": "seeyon"}),
        "/aap/approval",
    )
    with pytest.raises(NoRoute, match="fonds Q002"):
        await filed(approval, "Q002")
