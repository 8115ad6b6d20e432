from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    platform: PlatformSettings = Field(default_factory=PlatformSettings)
