"""Wiring every service shares: one call builds its Kafka router, publisher, database and app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import uvicorn
from fastapi import APIRouter, FastAPI
from faststream.kafka.fastapi import KafkaRouter
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from servicekit import mongo
from servicekit.deadletter import DeadLetters
from servicekit.health import Check, health_router
from servicekit.kafka import EventPublisher, make_router
from servicekit.logging import configure_logging
from servicekit.settings import PlatformSettings
from servicekit.tracing import configure_tracing

Hook = Callable[[], Awaitable[None]]


@dataclass
class Runtime:
    """The adapters every service has, built from its settings."""

    service: str
    platform: PlatformSettings
    router: KafkaRouter
    dead_letters: DeadLetters
    publisher: EventPublisher
    client: AsyncMongoClient[mongo.Document]
    db: AsyncDatabase[mongo.Document]
    startup: list[Hook] = field(default_factory=list)  # before Kafka: indexes, buckets
    after_start: list[Hook] = field(default_factory=list)  # with Kafka up: background tasks
    before_stop: list[Hook] = field(default_factory=list)
    shutdown: list[Hook] = field(default_factory=list)

    @property
    def source(self) -> str:
        """The CloudEvents ``source`` of this service's events."""
        return f"/aap/{self.service}"

    def subscriber_group(self) -> str:
        return f"{self.platform.namespace}.{self.service}"


def build_runtime(service: str, platform: PlatformSettings) -> Runtime:
    configure_logging(service, platform.log_level)
    provider = configure_tracing(service, platform.otel_exporter)
    router, dead_letters = make_router(platform, service, provider)
    client = mongo.connect(platform.mongo_url)
    return Runtime(
        service=service,
        platform=platform,
        router=router,
        dead_letters=dead_letters,
        publisher=EventPublisher(router.broker, platform.namespace),
        client=client,
        db=client[platform.database_name(service)],
    )


def build_app(
    rt: Runtime,
    *,
    title: str,
    routers: Sequence[APIRouter] = (),
    checks: Mapping[str, Check] | None = None,
) -> FastAPI:
    """A FastAPI app: HTTP routes, Kafka subscribers, health, and AsyncAPI docs at /asyncapi."""

    async def kafka_ready() -> None:
        await rt.router.broker.ping(timeout=2)

    async def mongo_ready() -> None:
        await mongo.ping(rt.db)

    all_checks: dict[str, Check] = {"kafka": kafka_ready, "mongodb": mongo_ready, **(checks or {})}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # FastAPI nests the Kafka router's lifespan inside this one: indexes and buckets are
        # made before the broker starts, and the database closes after it stopped.
        for hook in rt.startup:
            await hook()
        yield
        for hook in rt.shutdown:
            await hook()
        await rt.client.close()

    for hook in rt.after_start:
        rt.router.after_startup(_ignoring_app(hook))
    for hook in rt.before_stop:
        rt.router.on_broker_shutdown(_ignoring_app(hook))

    app = FastAPI(title=title, lifespan=lifespan)
    app.include_router(rt.router)
    app.include_router(health_router(all_checks))
    for r in routers:
        app.include_router(r)
    return app


def _ignoring_app(hook: Hook) -> Callable[[FastAPI], Awaitable[None]]:
    async def run(_: FastAPI) -> None:
        await hook()

    return run


def serve(app: FastAPI, host: str, port: int) -> None:
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
