from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.settings import PlatformSettings


class ApprovalSettings(BaseSettings):
    """``AAP_APPROVAL_*``; shared infrastructure comes from ``AAP_*`` (PlatformSettings)."""

    model_config = SettingsConfigDict(env_prefix="AAP_APPROVAL_", extra="ignore")

    http_host: str = "127.0.0.1"
    http_port: int = 8103
    oa_callback_secret: SecretStr = Field(
        default=SecretStr("local-oa-secret-change-me"),
        description="Shared HMAC key of the OA callback; set a strong one per OA system",
    )
    platform: PlatformSettings = Field(default_factory=PlatformSettings)
