from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.stack import SERVICES, LocalStack
from devkit.testing import free_port
from servicekit.settings import PlatformSettings


@pytest.fixture
def stack(platform: PlatformSettings, tmp_path: Path) -> Iterator[LocalStack]:
    """The five services as processes, on free ports, in the test session's namespace."""
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
