from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.checkpoint import NoteError, Signer
from servicekit.settings import PlatformSettings


class AuditSettings(BaseSettings):
    """``AAP_AUDIT_*``; shared infrastructure comes from ``AAP_*`` (PlatformSettings)."""

    model_config = SettingsConfigDict(env_prefix="AAP_AUDIT_", extra="ignore")

    http_host: str = "127.0.0.1"
    http_port: int = 8105
    permission_url: str = "http://127.0.0.1:8104"
    oidc_client_id: str = Field(
        default="aap-audit", description="The audit service's client at the IdP, for its token"
    )
    oidc_client_secret: SecretStr = Field(description="That client's secret: no default")
    checkpoint_key: SecretStr = Field(
        description="The log's Ed25519 signing key as a C2SP note key, PRIVATE+KEY+<name>+…: "
        "no default (devkit.evidence makes one locally)"
    )
    checkpoint_entries: int = Field(
        default=1000, ge=1, description="Publish a checkpoint once this many entries await one"
    )
    checkpoint_seconds: float = Field(
        default=60,
        gt=0,
        description="…and at least this often while entries await one: how long a deleted "
        "tail can go unnoticed",
    )
    checkpoint_retention_years: int = Field(
        default=30, ge=1, description="Published checkpoints are kept (COMPLIANCE) this long"
    )
    platform: PlatformSettings = Field(default_factory=PlatformSettings)

    @field_validator("checkpoint_key")
    @classmethod
    def _a_note_key(cls, key: SecretStr) -> SecretStr:
        try:
            Signer.parse(key.get_secret_value())
        except NoteError as error:
            raise ValueError(f"AAP_AUDIT_CHECKPOINT_KEY: {error}") from error
        return key

    def signer(self) -> Signer:
        return Signer.parse(self.checkpoint_key.get_secret_value())
