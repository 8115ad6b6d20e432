"""``POST /v1/dead-letters/redrive``: the system administrator (系统管理员) re-drives this
service's dead letters once their cause is mended; the re-drive is on record."""

from __future__ import annotations

from typing import Protocol

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from contracts.envelope import new_event
from contracts.events import DeadLettersRedriven, RedrivenLetter, SkippedLetter
from contracts.roles import ALL_FONDS, Action
from contracts.topics import redrives, source_of
from contracts.types import utc_now
from servicekit.auth import Caller, Person
from servicekit.kafka_reading import DeadLetterCount
from servicekit.outbox import Outbox
from servicekit.redrive import Redriver
from servicekit.roles import Holder


class Roles(Protocol):
    """Who holds which role (the permission service's answer, cached)."""

    async def holder(self, who: Person) -> Holder: ...


class RedriveAnswer(BaseModel):
    redriven: list[RedrivenLetter] = Field(description="Handed to their handler again, in order")
    skipped: list[SkippedLetter] = Field(
        description="Records of the dead-letter topics that are no letter of them: not handed "
        "over, each with why"
    )
    remaining: int = Field(description="The group's dead letters left: those that failed again")
    finished: bool = Field(
        description="False: stopped (its time limit, or a letter failing again); re-drive again"
    )


def redrive_router(
    service: str,
    redriver: Redriver,
    count: DeadLetterCount,
    roles: Roles,
    publisher: Outbox,
    timeout: float = 60,
) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.post("/v1/dead-letters/redrive")
    async def redrive(caller: Caller) -> RedriveAnswer:
        """Hand each dead letter of this service's consumer group to its handler again."""
        # A re-drive hands over every fonds' letters: the system administrator of every fonds.
        holder = await roles.holder(caller)
        if ALL_FONDS not in holder.fonds_where(Action.REDRIVE):
            raise HTTPException(
                403,
                f"{caller.name} may not re-drive dead letters: they are every fonds', for the "
                "system administrator of every fonds (system_admin in '*')",
            )
        done = await redriver.redrive(timeout)
        remaining = await count.refresh()
        letters = [
            RedrivenLetter(
                topic=d.topic,
                partition=d.partition,
                offset=d.offset,
                error_type=d.error_type,
                reason=d.reason,
                event_type=d.event_type,
                source=d.source,
                subject=d.subject,
            )
            for d in done.letters
        ]
        data = DeadLettersRedriven(
            group=redriver.group,
            principal=caller.name,
            letters=tuple(letters),
            skipped=done.skipped,
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
        return RedriveAnswer(
            redriven=letters,
            skipped=list(done.skipped),
            remaining=remaining,
            finished=done.finished,
        )

    return router
