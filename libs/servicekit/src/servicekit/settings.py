"""Settings shared by every service, read from ``AAP_*`` environment variables."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class PlatformSettings(BaseSettings):
    """Where the shared infrastructure is. Every field is ``AAP_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="AAP_", extra="ignore")

    namespace: str = Field(
        default="local",
        pattern=r"^[a-z][a-z0-9-]{0,30}$",
        description="Prefix of topics, databases and buckets, one per environment or test run",
    )
    kafka_bootstrap: str = "127.0.0.1:19092"
    kafka_security_protocol: Literal["SASL_SSL", "PLAINTEXT"] = Field(
        default="SASL_SSL", description="PLAINTEXT only where set explicitly: nothing proves who"
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = "SCRAM-SHA-512"
    kafka_username: str | None = Field(default=None, description="This process's principal")
    kafka_password: SecretStr | None = Field(default=None, description="No default")
    kafka_ca_file: str | None = Field(
        default=None, description="CA of the broker's certificate; default the system's CAs"
    )
    kafka_linger_ms: int = Field(
        default=5, ge=0, description="Producer wait to batch sends: fewer, larger requests"
    )
    oa_connections: tuple[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")], ...] = Field(
        default=(),
        description="The OA systems connected (JSON list of names): each has its own Kafka "
        "principal oa-<name> and topics for the requests routed to it and its decisions",
    )
    database_host: str = Field(default="127.0.0.1", description="PostgreSQL's address")
    database_port: int = 15432
    database_sslmode: Literal["disable", "prefer", "require", "verify-ca", "verify-full"] = Field(
        default="prefer", description="verify-full in production: the server proves its name"
    )
    s3_endpoint: str = "127.0.0.1:19000"
    s3_access_key: str | None = Field(default=None, description="This service's S3 user")
    s3_secret_key: SecretStr | None = Field(default=None, description="No default")
    s3_secure: bool = False
    s3_region: str = "us-east-1"
    trusted_proxies: tuple[str, ...] = Field(
        default=(),
        description="The proxies (addresses or networks, JSON list) whose X-Forwarded-For is "
        "believed for the client's address in the usage register; none by default",
    )
    log_level: str = "INFO"
    otel_exporter: str = Field(default="none", pattern=r"^(none|console)$")
    consumer_attempts: int = Field(
        default=3, ge=1, description="Tries of a failing message before a dead letter"
    )
    consumer_backoff_seconds: float = Field(
        default=0.2, gt=0, description="First wait before a retry; doubled each time"
    )
    consumer_wait_cap_seconds: float = Field(
        default=10,
        gt=0,
        description="Longest wait between retries while a dependency is down (no dead letter)",
    )
    consumer_max_poll_interval_seconds: float = Field(
        default=1800,
        gt=0,
        description="How long a consumer may wait out a dependency before its group rebalances",
    )
    consumer_heartbeat_seconds: float = Field(
        default=0.5,
        gt=0,
        le=3,
        description="How often a consumer tells its group it is alive, and so how soon it hears "
        "of a rebalance: a service's subscribers join one group one after another, each join "
        "waiting for the others' next heartbeat",
    )
    processed_events_days: float = Field(
        default=14, gt=0, description="Keep handled event ids this long: beyond Kafka's retention"
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, proxies: tuple[str, ...]) -> tuple[str, ...]:
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError as error:
                raise ValueError(f"AAP_TRUSTED_PROXIES: {error}") from error
        return proxies

    def database_name(self, service: str) -> str:
        """The service's own database: ``<namespace>_<service>``."""
        return f"{self.namespace.replace('-', '_')}_{service}"

    def bucket_name(self, purpose: str) -> str:
        return f"{self.namespace}-{purpose}"
