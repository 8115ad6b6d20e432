from __future__ import annotations

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.settings import PlatformSettings


class RoleAssignmentIn(BaseModel):
    user: str
    role: str
    fonds_code: str


class PermissionSettings(BaseSettings):
    """``AAP_PERMISSION_*``; shared infrastructure comes from ``AAP_*`` (PlatformSettings)."""

    model_config = SettingsConfigDict(env_prefix="AAP_PERMISSION_", extra="ignore")

    http_host: str = "127.0.0.1"
    http_port: int = 8104
    sweep_seconds: float = Field(
        default=30, gt=0, description="How often expired grants are revoked"
    )
    service_clients: list[str] = Field(
        default_factory=lambda: ["aap-archive", "aap-audit"],
        description="Clients (token `azp`) of the services that ask for checks and roles",
    )
    # JSON list, e.g. [{"user":"zhaomin","role":"archivist","fonds_code":"Q001"}]
    role_assignments: list[RoleAssignmentIn] = Field(default_factory=list)
    platform: PlatformSettings = Field(default_factory=PlatformSettings)
