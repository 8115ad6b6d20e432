from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.settings import PlatformSettings

MIN_SECRET_BYTES = 32


class ApprovalSettings(BaseSettings):
    """``AAP_APPROVAL_*``; shared infrastructure comes from ``AAP_*`` (PlatformSettings)."""

    model_config = SettingsConfigDict(env_prefix="AAP_APPROVAL_", extra="ignore")

    http_host: str = "127.0.0.1"
    http_port: int = 8103
    oa_callback_secret: SecretStr = Field(
        description="HMAC key of the OA system's signed callbacks: at least 32 random bytes, "
        "no default"
    )
    platform: PlatformSettings = Field(default_factory=PlatformSettings)

    @field_validator("oa_callback_secret")
    @classmethod
    def _strong(cls, secret: SecretStr) -> SecretStr:
        if len(secret.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"AAP_APPROVAL_OA_CALLBACK_SECRET must be at least {MIN_SECRET_BYTES} bytes "
                "(random): a short key can be guessed, and every forged decision grants access"
            )
        return secret
