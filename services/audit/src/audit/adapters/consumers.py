"""One subscriber over every domain topic of the registry, each OA connection's included:
audit records all of them."""

from __future__ import annotations

from audit.checkpoints import Checkpoints
from contracts.envelope import AnyEnvelope
from contracts.topics import topics
from servicekit.kafka import subscriber_options
from servicekit.service import Runtime


def register_consumers(rt: Runtime, log: Checkpoints) -> None:
    every = topics(rt.platform.oa_connections)
    names = [t.name(rt.platform.namespace) for t in every if rt.service in t.consumers]

    @rt.broker.subscriber(*names, **subscriber_options(rt.platform, rt.service))
    async def on_any_event(event: AnyEnvelope) -> None:
        await log.record(event)
