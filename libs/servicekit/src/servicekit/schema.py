"""The services' tables, made and changed by versioned SQL files, forward only, with yoyo.

    python -m servicekit.schema SERVICE     (as the service's schema role: AAP_<SERVICE>_SCHEMA_*)

Applied at deploy time and by the test fixtures, never by a running service: its runtime role
may not create or alter a table. The files of ``servicekit/migrations`` (what every service has:
processed event ids, the grant helper) come first, then ``<service>/migrations``. Each file
grants the runtime role what it needs of the tables it makes (``grant_runtime``); the role's
name is a setting of the database (``aap.runtime_role``), made with it (``devkit.pg_access``).
"""

from __future__ import annotations

import argparse
from importlib.resources import files
from pathlib import Path
from urllib.parse import quote

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from yoyo import get_backend, read_migrations  # type: ignore[import-untyped]

from servicekit.settings import PlatformSettings


def migration_dirs(service: str) -> list[Path]:
    return [Path(str(files("servicekit") / "migrations")), Path(str(files(service) / "migrations"))]


def migrate(platform: PlatformSettings, service: str, user: str, password: str) -> int:
    """Apply what is not applied yet to the service's database, as ``user`` (the owner of its
    tables); how many files were applied. Concurrent runs take turns (yoyo's lock)."""
    uri = (
        f"postgresql+psycopg://{quote(user, safe='')}:{quote(password, safe='')}@"
        f"{platform.database_host}:{platform.database_port}/{platform.database_name(service)}"
        f"?sslmode={platform.database_sslmode}"
    )
    backend = get_backend(uri)
    try:
        migrations = read_migrations(*map(str, migration_dirs(service)))
        with backend.lock():
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
        return len(pending)
    finally:
        backend.connection.close()


class SchemaSettings(BaseSettings):
    """The schema role's sign-in: ``AAP_<SERVICE>_SCHEMA_USER`` and ``_PASSWORD``."""

    user: str = Field(description="The role owning the service's tables")
    password: SecretStr = Field(description="No default")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("service")
    service = parser.parse_args().service
    config = SettingsConfigDict(env_prefix=f"AAP_{service.upper()}_SCHEMA_", extra="ignore")
    own = type("Schema", (SchemaSettings,), {"model_config": config})()
    applied = migrate(PlatformSettings(), service, own.user, own.password.get_secret_value())
    print(f"{service}: {applied} migrations applied")


if __name__ == "__main__":
    main()
