"""Helpers for the integration tests: a service running in-process, a free port, roles."""

from __future__ import annotations

import asyncio
import copy
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from aiokafka.errors import KafkaConnectionError
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from archive.domain import metadata
from contracts.envelope import Envelope
from contracts.topics import Topic
from devkit.identity import as_user
from servicekit import s3
from servicekit.settings import PlatformSettings

SECURITY_ADMIN = "secadmin"  # the local stack's 安全管理员 (deploy/local/roles.json)


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A service in this process, with its Kafka consumers running, and an HTTP client to it."""
    async with (
        LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager,
        httpx.AsyncClient(
            # Answers as a client over the network gets them: a 500 or 503 is a response.
            transport=httpx.ASGITransport(manager.app, raise_app_exceptions=False),
            base_url="http://service",
        ) as http,
    ):
        yield http


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class InProcessPermission:
    """The permission service running in this process: other in-process services reach it
    through ``transport``; tests give roles through its API, as the security administrator."""

    transport: httpx.AsyncBaseTransport
    http: httpx.AsyncClient

    async def assign(self, *roles: tuple[str, str, str]) -> None:
        """Each (user, role, fonds_code), as the security administrator would."""
        for user, role, fonds in roles:
            r = await self.http.put(
                f"/v1/role-assignments/{quote(user, safe='')}/{role}/{quote(fonds, safe='')}",
                headers=as_user(SECURITY_ADMIN),
            )
            assert r.status_code in {200, 201}, r.text


class InMemoryUnits:
    """Units of work over in-memory fakes (``servicekit.database.UnitOfWork``): what the fakes
    hold is copied when a unit opens and put back if it fails, as a rollback would."""

    def __init__(self, *fakes: object) -> None:
        self._fakes = fakes
        self.rolled_back = 0

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[None]:
        saved = [copy.deepcopy(vars(fake)) for fake in self._fakes]
        try:
            yield
        except BaseException:
            for fake, held in zip(self._fakes, saved, strict=True):
                vars(fake).clear()
                vars(fake).update(held)
            self.rolled_back += 1
            raise


class RecordingPublisher:
    """A use case's publisher in unit tests: keeps what was published, and on which topic when
    the use case chose one (``topics``: None for the event's own); ``down`` makes it fail as
    the broker does when it is unreachable."""

    def __init__(self) -> None:
        self.events: list[Envelope[Any]] = []
        self.topics: list[Topic | None] = []
        self.down = False

    async def publish(self, event: Envelope[Any], to: Topic | None = None) -> None:
        if self.down:
            raise KafkaConnectionError("broker down")
        self.events.append(event)
        self.topics.append(to)


def open_gaps(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The gaps a completeness report (GET /v1/completeness) names and nobody waived: the
    year's first, then month by month."""
    gaps = [*report["year"], *(g for m in report["months"] for g in m["gaps"])]
    return [g for g in gaps if not g["waived"]]


async def waive_gaps(
    archive: httpx.AsyncClient, fonds_code: str, fiscal_year: int, archivist: str, reason: str
) -> list[str]:
    """An archivist accepts the year as it is: every gap its completeness report names is
    waived, for ``reason``; the ids waived. For tests about a handover, not about a year."""
    year: dict[str, str | int] = {"fonds_code": fonds_code, "fiscal_year": fiscal_year}
    r = await archive.get("/v1/completeness", params=year, headers=as_user(archivist))
    assert r.status_code == 200, r.text
    gaps = [g["id"] for g in open_gaps(r.json())]
    if gaps:
        body = {**year, "gaps": gaps, "reason": reason}
        r = await archive.post("/v1/completeness/waivers", json=body, headers=as_user(archivist))
        assert r.status_code == 201, r.text
    return gaps


async def archived_metadata_problems(
    settings: PlatformSettings,
) -> tuple[int, dict[str, list[str]]]:
    """Every format-2 metadata.xml the archive's bucket holds, at the version archived (the
    first: one put over it later is the re-check's finding, never the record's), validated
    against the schema: how many were validated, and what is wrong with each that fails."""
    store = s3.ObjectStore(s3.connect(settings), settings.bucket_name("archive-originals"))
    if not await asyncio.to_thread(store.client.bucket_exists, store.bucket):
        return 0, {}
    checked, bad = 0, {}
    for key, versions in (await store.versions("")).items():
        if not key.endswith("/metadata.xml") or not versions:
            continue
        data = await store.get(key, versions[0])
        if metadata.NAMESPACE.encode() not in data[:400]:
            continue  # package format 1: no schema to meet
        checked += 1
        if found := metadata.problems(data):
            bad[key] = found
    return checked, bad
