from __future__ import annotations

import os
import socket

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from archive.domain.archive_code import DEFAULT_RULE
from servicekit.settings import PlatformSettings


class ArchiveSettings(BaseSettings):
    """``AAP_ARCHIVE_*``; shared infrastructure comes from ``AAP_*`` (PlatformSettings)."""

    model_config = SettingsConfigDict(env_prefix="AAP_ARCHIVE_", extra="ignore")

    http_host: str = "127.0.0.1"
    http_port: int = 8102
    permission_url: str = "http://127.0.0.1:8104"
    oidc_client_id: str = Field(
        default="aap-archive", description="The archive's client at the IdP, for its own token"
    )
    oidc_client_secret: SecretStr = Field(description="That client's secret: no default")
    archive_code_rule: str = DEFAULT_RULE
    instance_id: str = Field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}",
        description="Names this process's own consumer group for its search index",
    )
    recheck_sweep_seconds: float = Field(
        default=86400, ge=0, description="Re-check every record this often; 0 turns it off"
    )
    handover_mark_lease_seconds: float = Field(
        default=3600,
        gt=0,
        description="A handover's mark on its year, left by a process that died before it kept "
        "the handover, is taken over after this long",
    )
    platform: PlatformSettings = Field(default_factory=PlatformSettings)
