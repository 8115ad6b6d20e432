from __future__ import annotations

import re

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.settings import PlatformSettings

MIN_SECRET_BYTES = 32
KEY_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


class ApprovalSettings(BaseSettings):
    """``AAP_APPROVAL_*``; shared infrastructure comes from ``AAP_*`` (PlatformSettings)."""

    model_config = SettingsConfigDict(env_prefix="AAP_APPROVAL_", extra="ignore")

    http_host: str = "127.0.0.1"
    http_port: int = 8103
    oa_callback_keys: dict[str, SecretStr] = Field(
        description="Each OA system's own HMAC key for its signed callbacks, by key id (JSON, "
        'e.g. {"seeyon": "…"}): at least 32 random bytes each, no default'
    )
    platform: PlatformSettings = Field(default_factory=PlatformSettings)

    @field_validator("oa_callback_keys")
    @classmethod
    def _strong(cls, keys: dict[str, SecretStr]) -> dict[str, SecretStr]:
        if not keys:
            raise ValueError("AAP_APPROVAL_OA_CALLBACK_KEYS names no OA system's key")
        for key_id, secret in keys.items():
            if not KEY_ID.fullmatch(key_id):
                raise ValueError(f"key id {key_id!r}: 1–64 of a-z, 0-9 and -")
            if len(secret.get_secret_value().encode()) < MIN_SECRET_BYTES:
                raise ValueError(
                    f"the key of {key_id} must be at least {MIN_SECRET_BYTES} bytes (random): "
                    "a short key can be guessed, and every forged decision grants access"
                )
        return keys

    def callback_keys(self) -> dict[str, bytes]:
        return {k: v.get_secret_value().encode() for k, v in self.oa_callback_keys.items()}
