from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, TypeAdapter
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.roles import Role
from permission.domain.access import RoleAssignment
from servicekit.settings import PlatformSettings


class SeededRole(BaseModel):
    user: str
    role: Role
    fonds_code: str


def read_seed(path: Path | None) -> list[RoleAssignment]:
    """A seed file: a JSON list of {"user", "role", "fonds_code"}."""
    if path is None:
        return []
    rows = TypeAdapter(list[SeededRole]).validate_json(path.read_bytes())
    return [RoleAssignment(r.user, r.role.value, r.fonds_code) for r in rows]


class PermissionSettings(BaseSettings):
    """``AAP_PERMISSION_*``; shared infrastructure comes from ``AAP_*`` (PlatformSettings)."""

    model_config = SettingsConfigDict(env_prefix="AAP_PERMISSION_", extra="ignore")

    http_host: str = "127.0.0.1"
    http_port: int = 8104
    sweep_seconds: float = Field(
        default=30, gt=0, description="How often expired grants are revoked"
    )
    service_clients: list[str] = Field(
        default_factory=lambda: ["aap-ingest", "aap-archive", "aap-approval", "aap-audit"],
        description="Clients (token `azp`) of the services that ask for checks and roles",
    )
    role_seed_file: Path | None = Field(
        default=None,
        description="Role assignments that bootstrap an empty store (JSON list of user, role, "
        "fonds_code); afterwards roles change through the API only",
    )
    platform: PlatformSettings = Field(default_factory=PlatformSettings)
