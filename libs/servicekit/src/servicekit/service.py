"""Wiring every service shares: one call builds its Kafka broker, publisher, database and app."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import structlog
import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from minio.error import S3Error
from pydantic import SecretStr

from contracts.envelope import EventData
from contracts.topics import Topic, redrives, source_of, topics
from servicekit import database
from servicekit.addresses import networks
from servicekit.auth import OidcSettings, ServiceToken, TokenVerifier, authenticated
from servicekit.body_gate import Admission, TokenBeforeBody
from servicekit.deadletter import DeadLetters
from servicekit.failures import TRANSIENT, is_transient, nothing_done, until_done
from servicekit.health import Check, health_router
from servicekit.idempotency import ProcessedEvents
from servicekit.kafka import EventPublisher, dead_letters_of, make_broker
from servicekit.kafka_reading import DeadLetterCount
from servicekit.logging import REPEATS, configure_logging
from servicekit.outbox import Outbox
from servicekit.periodic import Periodic
from servicekit.redrive import RecordHandler, Redriver
from servicekit.redrive_api import Roles, redrive_router
from servicekit.settings import PlatformSettings
from servicekit.tracing import configure_tracing

Hook = Callable[[], Awaitable[None]]
log = structlog.get_logger()


@dataclass
class Runtime:
    """The adapters every service has, built from its settings."""

    service: str
    platform: PlatformSettings
    broker: KafkaBroker
    dead_letters: DeadLetters  # what the broker's consumers set aside, and how
    publisher: Outbox  # what its use cases publish, committed with their state, relayed
    db: database.Pool  # its own database, as its runtime role
    tokens: TokenVerifier  # who calls this service's HTTP API
    # Handlers of one record, for the topics a batch subscriber reads: re-driving a dead
    # letter hands them the letter (servicekit.redrive).
    record_handlers: dict[str, RecordHandler] = field(default_factory=dict)
    startup: list[Hook] = field(default_factory=list)  # before Kafka: buckets
    after_start: list[Hook] = field(default_factory=list)  # with Kafka up: background tasks
    before_stop: list[Hook] = field(default_factory=list)
    shutdown: list[Hook] = field(default_factory=list)

    def processed_events(self, consumer: str) -> ProcessedEvents:
        """The consumer's register of handled event ids, pruned daily past their usefulness."""
        processed = ProcessedEvents(self.db, consumer)
        keep = timedelta(days=self.platform.processed_events_days)
        pruning = Periodic(
            f"prune {consumer} event ids", lambda: processed.prune(keep), 86400, first_at_start=True
        )
        self.after_start.append(pruning.start)
        self.before_stop.append(pruning.stop)
        return processed

    def unit_of_work(self) -> database.UnitOfWork:
        """Units of work on the service's database: state and events committed together."""
        return database.unit_of_work(self.db)

    def in_background(self, name: str, work: Hook) -> None:
        """Work to do once started (catching up, completing what a crash interrupted) that
        must not keep the service from starting: run aside, a dependency down waited out."""
        tasks: list[asyncio.Task[None]] = []

        async def start() -> None:
            wait_cap = self.platform.consumer_wait_cap_seconds
            tasks.append(asyncio.create_task(until_done(name, work, wait_cap), name=name))

        async def stop() -> None:
            for task in tasks:
                task.cancel()
            # Their cancellation is awaited, not swallowed: a stop itself cancelled still ends.
            await asyncio.gather(*tasks, return_exceptions=True)

        self.after_start.append(start)
        self.before_stop.append(stop)

    def service_token(self, client_id: str, client_secret: SecretStr) -> ServiceToken:
        """This service's own token for calling another, from the same identity provider."""
        return ServiceToken(self.tokens.discovery, client_id, client_secret)

    @property
    def source(self) -> str:
        """The CloudEvents ``source`` of this service's events."""
        return source_of(self.service)


def build_runtime(
    service: str,
    platform: PlatformSettings,
    publishes: Sequence[type[EventData]] = (),
    oidc: OidcSettings | None = None,
    routed: Sequence[Topic] = (),
) -> Runtime:
    """The adapters of ``service``; ``publishes`` lists the events it may publish, ``routed``
    the topics it publishes on by choice (an OA connection's). ``oidc``, which identity
    provider to trust, comes from ``AAP_OIDC_*`` unless given."""
    configure_logging(service, platform.log_level)
    # A dependency down is logged when it goes, and when its messages stop with how many.
    repeats = Periodic("summarise repeated messages", _summarise, 5, first_at_start=False)
    provider = configure_tracing(service, platform.otel_exporter)
    dead_letters = dead_letters_of(platform, service)
    broker = make_broker(platform, provider, service, dead_letters)
    idp = httpx.AsyncClient(timeout=10)
    db = database.pool_of(platform, service)
    # Its record of re-driving its dead letters goes on a topic of its own (redrive_api).
    kafka = EventPublisher(broker, platform.namespace, publishes, (*routed, redrives(service)))
    outbox = Outbox(db, kafka, platform.consumer_wait_cap_seconds)
    rt = Runtime(
        service=service,
        platform=platform,
        broker=broker,
        dead_letters=dead_letters,
        publisher=outbox,
        db=db,
        tokens=TokenVerifier(oidc or OidcSettings(), idp),
    )
    rt.shutdown.append(idp.aclose)
    rt.after_start.append(repeats.start)
    rt.before_stop.append(repeats.stop)
    rt.in_background("relay the outbox", outbox.run)
    rt.before_stop.append(lambda: outbox.drain(within=5))  # after the relay stopped
    return rt


async def _summarise() -> None:
    REPEATS.summarise()


def build_app(
    rt: Runtime,
    *,
    title: str,
    routers: Sequence[APIRouter] = (),
    signed_routers: Sequence[APIRouter] = (),
    checks: Mapping[str, Check] | None = None,
    max_request_bytes: int = 1024 * 1024,
    errors: Mapping[type[Exception], int] | None = None,
    roles: Roles | None = None,
    admissions: Mapping[str, Admission] | None = None,
) -> FastAPI:
    """A FastAPI app: HTTP routes, the Kafka broker's lifetime, health, /asyncapi.json.

    Every route of ``routers`` requires an access token of the platform's IdP; those of
    ``signed_routers`` are callbacks of outside systems that prove their sender by a signature
    of their own, checked by the route. A request body over ``max_request_bytes`` is refused
    with 413 while it arrives, before it fills memory or disk. ``errors``: what the use cases
    raise, each answered once with its status and its message as ``detail``. ``roles``: who
    holds which role, for the system administrator's re-drive of dead letters (``redrive_api``).
    Whoever sends a body to a route behind the token is proven first, before a byte of it is
    read (``body_gate``); ``admissions``, by path, say who the route admits before that too.
    """

    async def kafka_ready() -> None:
        if not await rt.broker.ping(timeout=2):
            raise ConnectionError("Kafka broker does not answer")

    async def database_ready() -> None:
        await database.ping(rt.db)

    async def idp_ready() -> None:
        await rt.tokens.discovery.endpoint("jwks_uri")

    # The messages this service's consumer group set aside (its dead letters) and not re-driven
    # yet, re-counted aside.
    group = rt.dead_letters.group  # the group its dead letters name
    read = [t for t in topics(rt.platform.oa_connections) if rt.service in t.consumers]
    dead = DeadLetterCount(rt.platform, rt.service, read)
    counting = Periodic("count dead letters", dead.refresh, 10, first_at_start=True)
    rt.after_start.append(counting.start)
    rt.before_stop.append(counting.stop)

    all_checks: dict[str, Check] = {
        "kafka": kafka_ready,
        "database": database_ready,
        "identity provider": idp_ready,
        **(checks or {}),
    }

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await rt.db.open(wait=False)  # connects aside: a database down is waited for, per use
        for hook in rt.startup:
            await hook()
        await rt.broker.start()
        try:
            for hook in rt.after_start:
                await hook()
            yield
            for hook in rt.before_stop:
                await _timed(hook)
        finally:
            await rt.broker.stop()  # waits for handlers in flight, then commits
            for hook in rt.shutdown:
                await hook()
            await rt.db.close()

    # The API's own description is for callers with a token too: no open /docs, /redoc.
    app = FastAPI(
        title=title,
        lifespan=lifespan,
        max_body_size=max_request_bytes,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.token_verifier = rt.tokens
    app.state.trusted_proxies = networks(rt.platform.trusted_proxies)
    answer_errors(app, errors or {})
    # The only routes open to anyone.
    health = health_router(
        all_checks,
        {"dead_letters": dead.figure, "outbox_refused": rt.publisher.refused},
        {"service": rt.service, "group": group},
    )
    app.include_router(health)
    # Every other route sits behind the token check, declared once here so none can miss it;
    # a route that needs the principal names `Caller`, which FastAPI resolves once per request.
    operations = []
    if roles is not None:
        redriver = Redriver(rt.platform, rt.broker, group, rt.service, read, rt.record_handlers)
        operations.append(redrive_router(rt.service, redriver, dead, roles, rt.publisher))
    for r in (asyncapi_router(rt, title), openapi_router(app), *routers, *operations):
        app.include_router(r, dependencies=[Depends(authenticated)])
    for r in signed_routers:
        app.include_router(r)
    open_paths = [
        route.path_regex for r in (*signed_routers, health) for route in r.routes
        if isinstance(route, APIRoute)
    ]  # fmt: skip
    app.add_middleware(TokenBeforeBody, open_paths=open_paths, admissions=admissions or {})
    return app


async def _timed(hook: Hook) -> None:
    """A hook that holds up the service's stop is named in the log, with how long it took."""
    began = time.monotonic()
    await hook()
    if (took := time.monotonic() - began) > 2:
        log.warning("stopping waited", hook=getattr(hook, "__qualname__", repr(hook)), seconds=took)


def answer_errors(app: FastAPI, errors: Mapping[type[Exception], int]) -> None:
    """Each use case's error answered with its status; a dependency down with 503 and
    ``Retry-After``; anything else with 500. The failures of a dependency are registered by
    their own classes: a handler for ``Exception`` alone runs in Starlette's outermost
    middleware, which sends the answer and raises again, and uvicorn then drops the client's
    connection (half the 503s an ERP saw in an outage were bare connection resets)."""
    for failure in (*TRANSIENT, S3Error, httpx.HTTPStatusError):
        app.add_exception_handler(failure, _unavailable)
    app.add_exception_handler(Exception, _unavailable)
    for error, status in errors.items():
        app.add_exception_handler(error, _answer_with(status))


def _answer_with(status: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def answer(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=status)

    return answer


async def _unavailable(_: Request, error: Exception) -> JSONResponse:
    """A dependency down is the server's state, not the request's fault: 503, nothing done."""
    if is_transient(error):
        return JSONResponse(
            {"detail": nothing_done(error)}, status_code=503, headers={"Retry-After": "5"}
        )
    log.exception("unexpected error", error_type=type(error).__name__)
    return JSONResponse({"detail": "internal error"}, status_code=500)


def asyncapi_document(rt: Runtime, title: str) -> dict[str, object]:
    """The service's AsyncAPI 3.0 document, generated by FastStream from its subscribers."""
    spec = AsyncAPI(rt.broker, title=title, version="1", description=f"Kafka API of {title}")
    document: dict[str, object] = spec.to_specification().to_jsonable()
    return document


def asyncapi_router(rt: Runtime, title: str) -> APIRouter:
    router = APIRouter(tags=["docs"])

    @router.get("/asyncapi.json")
    async def asyncapi() -> dict[str, object]:
        return asyncapi_document(rt, title)

    return router


def openapi_router(app: FastAPI) -> APIRouter:
    router = APIRouter(tags=["docs"])

    @router.get("/openapi.json", include_in_schema=False)
    async def openapi() -> dict[str, object]:
        return app.openapi()

    return router


def serve(app: FastAPI, host: str, port: int) -> None:
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
