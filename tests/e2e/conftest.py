from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from devkit import pg_access
from devkit.namespace import discard, provision
from devkit.stack import SERVICES, LocalStack
from devkit.testing import free_port
from servicekit.settings import PlatformSettings


@pytest.fixture
def stack(platform: PlatformSettings, tmp_path: Path) -> Iterator[LocalStack]:
    """The five services as processes, on free ports, in the test session's namespace."""
    yield from _stack(platform, tmp_path)


@pytest.fixture
async def fresh(
    platform: PlatformSettings, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[PlatformSettings]:
    """A namespace of the test's own, as each `make demo` runs in: its sample fonds holds
    what the test puts there and nothing the session's other tests did."""
    namespace = "e" + secrets.token_hex(4)
    await provision(platform, namespace)
    monkeypatch.setenv("AAP_NAMESPACE", namespace)
    for name, value in pg_access.namespace_env(namespace).items():
        monkeypatch.setenv(name, value)
    try:
        yield platform.model_copy(update={"namespace": namespace})
    finally:
        await discard(platform, namespace)


@pytest.fixture
def fresh_stack(fresh: PlatformSettings, tmp_path: Path) -> Iterator[LocalStack]:
    """The five services as processes in the ``fresh`` namespace."""
    yield from _stack(fresh, tmp_path)


def _stack(platform: PlatformSettings, tmp_path: Path) -> Iterator[LocalStack]:
    s = LocalStack(
        log_dir=tmp_path / "logs",
        ports={name: free_port() for name in SERVICES},
        env={"AAP_NAMESPACE": platform.namespace, "AAP_PERMISSION_SWEEP_SECONDS": "1"},
    )
    s.start_all()
    try:
        yield s
    finally:
        s.stop_all()
