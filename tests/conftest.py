"""Fixtures for integration and end-to-end tests: the real Kafka, S3 and PostgreSQL servers.

`make test` starts them (deploy/local/infra.sh). Each test session works in a namespace of its
own (topics, databases and buckets prefixed ``t<random>``), so runs never see each other's data.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from devkit import pg_access
from devkit.identity import ISSUER, service_env
from devkit.namespace import as_local_administrator, discard, provision
from devkit.sm2 import local_anchors
from devkit.sm2 import verifier as sm2_verifier
from devkit.stack import LOCAL_CLAMD, LOCAL_ROLE_SEED, SERVICES
from devkit.tax_standin import verifier_env
from devkit.testing import InProcessPermission, archived_metadata_problems, running
from permission.app import create_app as permission_app
from servicekit.database import Pool
from servicekit.settings import PlatformSettings


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = str(item.path)
        if "/tests/integration/" in path:
            item.add_marker(pytest.mark.integration)
        elif "/tests/e2e/" in path:
            item.add_marker(pytest.mark.e2e)


def _reachable(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def platform() -> Iterator[PlatformSettings]:
    namespace = "t" + secrets.token_hex(4)
    os.environ["AAP_NAMESPACE"] = namespace
    # Every ingest of the tests asks the local clamd: without a scanner, uploads are held for
    # review (4-2 not performed), which is right for the product and wrong for the tests.
    os.environ.setdefault("AAP_INGEST_CLAMD_ADDRESS", LOCAL_CLAMD)
    os.environ.setdefault("AAP_ARCHIVE_CLAMD_ADDRESS", LOCAL_CLAMD)  # the re-check's 4-2
    # Signatures are judged against the checkout's own CAs (devkit.pki for PDFs, an SM2 one for
    # OFD seals), whose signers the tests sign and seal with; OFD seals by the real verifier.
    os.environ.setdefault("AAP_INGEST_TRUST_ANCHORS", str(local_anchors()))
    os.environ.setdefault("AAP_INGEST_SM2_VERIFIER", str(sm2_verifier()))
    # 查验 asks the stand-in provider at its port: served by the tests about 查验; elsewhere the
    # platform "does not answer", the gap is recorded and nothing waits on it.
    for name, value in verifier_env().items():
        os.environ.setdefault(name, value)
    # The local stack's roles bootstrap the session's (empty) role store; tests add their own
    # through the API, as the security administrator (InProcessPermission.assign).
    os.environ["AAP_PERMISSION_ROLE_SEED_FILE"] = str(LOCAL_ROLE_SEED)
    # The local Keycloak: services validate its tokens, the archive asks for its own, and the
    # tests sign in as its sample people (devkit.identity.as_user).
    for service in SERVICES:
        os.environ.update(service_env(service))
        os.environ.update(pg_access.client_env(service, namespace))
    # The tests' own clients, and the services they run in this process, are the administrator
    # of the broker and of the object store: each service's own principals are what the stack
    # of separate processes (e2e) runs with.
    as_local_administrator()
    settings = PlatformSettings()
    for name, address in [
        ("Kafka", settings.kafka_bootstrap),
        ("S3", settings.s3_endpoint),
        ("PostgreSQL", f"{settings.database_host}:{settings.database_port}"),
        ("clamd", os.environ["AAP_INGEST_CLAMD_ADDRESS"]),
        ("Keycloak", ISSUER.removeprefix("http://").split("/")[0]),
    ]:
        if not _reachable(address):
            pytest.fail(f"{name} does not answer at {address}: run `make infra-up` (or set AAP_*)")
    asyncio.run(provision(settings, namespace))
    yield settings
    # Every metadata.xml the session's archive wrote validates against the schema (DA/T 46/94).
    checked, invalid = asyncio.run(archived_metadata_problems(settings))
    asyncio.run(_clean_up(settings))
    assert not invalid, f"of {checked} metadata.xml, these do not validate: {invalid}"


@pytest.fixture(scope="module")
async def permission(platform: PlatformSettings) -> AsyncIterator[InProcessPermission]:
    """The permission service in this process (roles, grants, the check API), one per module."""
    app = permission_app()
    async with running(app) as http:
        yield InProcessPermission(httpx.ASGITransport(app), http)


@pytest.fixture
async def archive_db(platform: PlatformSettings) -> AsyncIterator[Pool]:
    """The archive's database as its runtime role: what a second archive process reaches."""
    async with pg_access.opened(platform, "archive") as pool:
        yield pool


@pytest.fixture
async def audit_db(platform: PlatformSettings) -> AsyncIterator[Pool]:
    """The audit service's database as its runtime role."""
    async with pg_access.opened(platform, "audit") as pool:
        yield pool


async def _clean_up(settings: PlatformSettings) -> None:
    await discard(settings, settings.namespace)
