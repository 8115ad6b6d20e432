"""The event envelope: CloudEvents 1.0 attributes plus correlation, causation and trace context.

Kafka binding (structured content mode): the record value is the whole envelope as JSON
(UTF-8, Chinese text unescaped), the header ``content-type`` is
``application/cloudevents+json; charset=utf-8`` and the record key is the envelope's
``subject`` (UTF-8), so that all events of one archive record stay in one partition, in order.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, Generic, Literal, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.types import Contract, UtcDatetime, utc_now

CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
EVENT_TYPE_PREFIX = "cn.aap."
_DERIVED_NS = uuid.UUID("7d9a3f1e-5c1b-4a5e-9f55-2b8c6a0d4e11")


class EventData(Contract):
    """Base of every event's payload. ``event_type`` is the past-tense fact's name."""

    event_type: ClassVar[str]
    version: ClassVar[int] = 1

    @classmethod
    def cloudevents_type(cls) -> str:
        return f"{EVENT_TYPE_PREFIX}{cls.event_type}.v{cls.version}"


DataT = TypeVar("DataT")


class Envelope(BaseModel, Generic[DataT]):
    """One event as it travels: who said what, about which subject, caused by what."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"] = "1.0"
    id: uuid.UUID
    source: str = Field(description="URI-reference of the producing service, e.g. /aap/ingest")
    type: str = Field(description="cn.aap.<EventName>.v<version>")
    time: UtcDatetime
    subject: str = Field(min_length=1, description="The entity the event is about; the Kafka key")
    datacontenttype: Literal["application/json"] = "application/json"
    correlationid: str = Field(min_length=1, description="Shared by every event of one story")
    causationid: str | None = Field(default=None, description="id of the event that caused it")
    traceparent: str | None = Field(default=None, description="W3C trace context")
    tracestate: str | None = None
    actor: str | None = Field(default=None, description="User or system that caused the event")
    data: DataT

    @model_validator(mode="after")
    def _type_matches_data(self) -> Envelope[DataT]:
        if isinstance(self.data, EventData) and self.type != self.data.cloudevents_type():
            raise ValueError(
                f"envelope type {self.type!r} does not match data {self.data.cloudevents_type()!r}"
            )
        return self


AnyEnvelope = Envelope[dict[str, Any]]
"""An envelope whose data is left as JSON: for consumers of every event, such as audit."""

EventT = TypeVar("EventT", bound=EventData)


def new_event(
    data: EventT,
    *,
    source: str,
    subject: str,
    correlation_id: str,
    cause: Envelope[Any] | None = None,
    actor: str | None = None,
    event_id: uuid.UUID | None = None,
) -> Envelope[EventT]:
    """Make an envelope for ``data``. Pass ``cause`` to keep correlation and causation."""
    typed: type[Envelope[EventT]] = cast(Any, Envelope)[type(data)]
    return typed(
        id=event_id or uuid.uuid4(),
        source=source,
        type=data.cloudevents_type(),
        time=utc_now(),
        subject=subject,
        correlationid=cause.correlationid if cause else correlation_id,
        causationid=str(cause.id) if cause else None,
        actor=actor,
        data=data,
    )


def upcast(event: Envelope[Any], data: EventT) -> Envelope[EventT]:
    """An event of an older version read as the current one (``data``, made by the new
    version's ``from_v1``): the same id, story and cause, so idempotency holds across both."""
    typed: type[Envelope[EventT]] = cast(Any, Envelope)[type(data)]
    return typed(**{**dict(event), "type": data.cloudevents_type(), "data": data})


def derived_event_id(
    cause_id: uuid.UUID | str, event_type: type[EventData], part: str = ""
) -> uuid.UUID:
    """A deterministic id for the event a consumer publishes in reaction to ``cause_id``.

    A redelivered cause then yields the same id, so downstream consumers skip the repeat.
    """
    return uuid.uuid5(_DERIVED_NS, f"{cause_id}|{event_type.cloudevents_type()}|{part}")
