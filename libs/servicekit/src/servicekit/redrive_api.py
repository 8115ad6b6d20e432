"""``POST /v1/dead-letters/redrive``: the system administrator (系统管理员) re-drives this
service's dead letters once their cause is mended; the re-drive is on record."""

from __future__ import annotations

from typing import Protocol

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from contracts.envelope import new_event
from contracts.events import DeadLettersRedriven, RedrivenLetter
from contracts.roles import Action
from contracts.topics import redrives, source_of
from contracts.types import utc_now
from servicekit.auth import Caller
from servicekit.kafka import EventPublisher
from servicekit.kafka_reading import DeadLetterCount
from servicekit.redrive import Redriver
from servicekit.roles import Holder


class Roles(Protocol):
    """Who holds which role (the permission service's answer, cached)."""

    async def holder(self, name: str) -> Holder: ...


class RedriveAnswer(BaseModel):
    redriven: list[RedrivenLetter] = Field(description="Handed to their handler again, in order")
    remaining: int = Field(description="The group's dead letters left: those that failed again")
    finished: bool = Field(
        description="False: stopped (its time limit, or a letter failing again); re-drive again"
    )


def redrive_router(
    service: str,
    redriver: Redriver,
    count: DeadLetterCount,
    roles: Roles,
    publisher: EventPublisher,
    timeout: float = 60,
) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.post("/v1/dead-letters/redrive")
    async def redrive(caller: Caller) -> RedriveAnswer:
        """Hand each dead letter of this service's consumer group to its handler again."""
        holder = await roles.holder(caller.name)
        if not holder.fonds_where(Action.REDRIVE):
            raise HTTPException(403, f"{caller.name} may not re-drive dead letters: system_admin")
        done = await redriver.redrive(timeout)
        remaining = await count.refresh()
        letters = [
            RedrivenLetter(
                topic=d.topic, partition=d.partition, offset=d.offset, error_type=d.error_type
            )
            for d in done.letters
        ]
        data = DeadLettersRedriven(
            group=redriver.group,
            principal=caller.name,
            letters=tuple(letters),
            remaining=remaining,
            finished=done.finished,
            redriven_at=utc_now(),
        )
        event = new_event(
            data,
            source=source_of(service),
            subject=redriver.group,
            correlation_id=caller.name,
            actor=caller.name,
        )
        await publisher.publish(event, to=redrives(service))
        return RedriveAnswer(redriven=letters, remaining=remaining, finished=done.finished)

    return router
