"""Which failures are a dependency being down, and so will pass: a database, an object store,
another service or a broker that does not answer. A consumer waits them out (retrying, its
partition paused, nothing committed); an HTTP request answers 503 naming the dependency.
Everything else is the message's or the code's fault, and waiting mends nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import structlog
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    NodeNotReadyError,
)
from minio.error import S3Error
from psycopg import OperationalError
from psycopg_pool import PoolTimeout
from urllib3.exceptions import HTTPError as Urllib3Error

from servicekit.auth import IdentityProviderUnavailable

log = structlog.get_logger()

# What an S3 server answers while it starts, stops or is overloaded.
S3_UNAVAILABLE = {
    "ServiceUnavailable",
    "SlowDown",
    "InternalError",
    "RequestTimeout",
    "XMinioServerNotInitialized",
    "XMinioStorageFull",
}

TRANSIENT: tuple[type[BaseException], ...] = (
    OperationalError,  # PostgreSQL: not reachable, connection lost, the server shutting down
    PoolTimeout,  # no connection to the database within the pool's wait
    Urllib3Error,  # the S3 client's transport: connection refused, max retries exceeded
    httpx.TransportError,  # another service's API does not answer
    KafkaConnectionError,
    KafkaTimeoutError,
    NodeNotReadyError,
    ConnectionError,
    TimeoutError,
)


def is_transient(error: BaseException) -> bool:
    """A dependency is down: the same work will succeed once it is back."""
    if isinstance(error, S3Error):
        return error.code in S3_UNAVAILABLE
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code in {502, 503, 504}
    if isinstance(error, KafkaError) and error.retriable:
        # What a broker answers while it starts or moves leaders (a partition not loaded yet,
        # no leader): the same request succeeds a moment later. Never a reason to give up on
        # an event: set aside, a fact would wait for a person to send it again.
        return True
    return isinstance(error, TRANSIENT)


def nothing_done(error: BaseException) -> str:
    """What a caller is told when a dependency is down: which, and that nothing was done."""
    return f"{dependency_of(error)} unavailable, nothing done: {type(error).__name__}"


def dependency_of(error: BaseException) -> str:
    """Which kind of dependency a transient failure is about, for people reading the answer."""
    if isinstance(error, (OperationalError, PoolTimeout)):
        return "database"
    if isinstance(error, (S3Error, Urllib3Error)):
        return "object store"
    if isinstance(error, IdentityProviderUnavailable):
        return "identity provider"
    if isinstance(error, httpx.HTTPError):
        return "a platform service"
    if isinstance(error, KafkaError):
        return "Kafka"
    return "a dependency"


async def until_done(
    name: str, work: Callable[[], Awaitable[object]], wait_cap_seconds: float = 10.0
) -> None:
    """Run ``work`` until it is done, waiting out a dependency that is down; a failure of any
    other kind is logged, not retried (it would fail again)."""
    waits = 0
    while True:
        try:
            await work()
            return
        except Exception as error:
            if not is_transient(error):
                log.exception("background work failed", work=name)
                return
            waits += 1
            wait = min(wait_cap_seconds, 0.2 * 2**waits)
            log.warning("background work waits for a dependency", work=name, retry_in=wait)
            await asyncio.sleep(wait)
