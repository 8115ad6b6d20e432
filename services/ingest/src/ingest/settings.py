from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.settings import PlatformSettings


class IngestSettings(BaseSettings):
    """``AAP_INGEST_*``; shared infrastructure comes from ``AAP_*`` (PlatformSettings)."""

    model_config = SettingsConfigDict(env_prefix="AAP_INGEST_", extra="ignore")

    http_host: str = "127.0.0.1"
    http_port: int = 8101
    clamd_address: str | None = Field(
        default=None,
        description="host:port of clamd for the virus scan (4-2); unset: not performed",
    )
    profiles_dir: Path | None = Field(
        default=None, description="More journal profiles (*.json) beside the built-in ones"
    )
    max_request_bytes: int = Field(
        default=256 * 1024 * 1024, gt=0, description="Largest upload (a package, say); 413 beyond"
    )
    platform: PlatformSettings = Field(default_factory=PlatformSettings)
