from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingest.parsers.tables import JournalLimits
from servicekit.settings import PlatformSettings
from servicekit.workers import WorkerLimits

MiB = 1024 * 1024


class IngestSettings(BaseSettings):
    """``AAP_INGEST_*``; shared infrastructure comes from ``AAP_*`` (PlatformSettings)."""

    model_config = SettingsConfigDict(env_prefix="AAP_INGEST_", extra="ignore")

    http_host: str = "127.0.0.1"
    http_port: int = 8101
    permission_url: str = "http://127.0.0.1:8104"
    oidc_client_id: str = Field(
        default="aap-ingest", description="Ingest's client at the IdP, for its own token"
    )
    oidc_client_secret: SecretStr = Field(description="That client's secret: no default")
    clamd_address: str | None = Field(
        default=None,
        description="host:port of clamd for the virus scan (4-2); unset: not performed, and "
        "every upload is held for review",
    )
    trust_anchors: Path | None = Field(
        default=None,
        description="PEM bundle of the certificates a signer's chain must end in (the "
        "customer's choice: the CAs its banks, suppliers and e-invoice platforms sign with); "
        "unset: signatures are verified, their signers not judged (AAP-SIGNER-TRUSTED not "
        "performed)",
    )
    sm2_verifier: Path | None = Field(
        default=None,
        description="The SM2 verifier's launcher (services/ingest/sm2-verifier/build.sh prints "
        "it; a JVM with ofdrw and BouncyCastle): OFD 签章 and SM2 PDF signatures; unset: those "
        "are not verified, and each report says so (1-1 not performed)",
    )
    verify_url: str | None = Field(
        default=None,
        description="查验: the provider's 发票查验 V2 endpoint (docs/invoice-verification.md); "
        "unset: no invoice is 查验'd, and each report says so (AAP-INVOICE-VERIFIED)",
    )
    verify_app_id: str | None = Field(default=None, description="The archive's account there")
    verify_app_secret: SecretStr | None = Field(
        default=None, description="…and its secret: no default, required with the URL"
    )
    verify_timeout_seconds: float = Field(default=10, gt=0, description="Per 查验 asked")
    verify_retry_seconds: float = Field(
        default=600,
        gt=0,
        description="How soon an invoice the platform did not answer is asked again (doubled "
        "each time, a day at most); also how often the schedule looks",
    )
    profiles_dir: Path | None = Field(
        default=None, description="More journal profiles (*.json) beside the built-in ones"
    )
    max_request_bytes: int = Field(
        default=256 * MiB, gt=0, description="Largest request (a package, say); 413 beyond"
    )
    max_journal_bytes: int = Field(default=64 * MiB, gt=0, description="413 beyond")
    max_package_bytes: int = Field(default=256 * MiB, gt=0, description="413 beyond")
    journal_max_rows: int = Field(default=100_000, gt=0, description="413 beyond")
    journal_max_columns: int = Field(default=256, gt=0, description="413 beyond")
    journal_max_cells: int = Field(default=5_000_000, gt=0, description="413 beyond")
    parse_workers: int = Field(default=2, gt=0, description="Worker processes that parse")
    parse_seconds: float = Field(
        default=60,
        gt=0,
        description="Time limit per file parsed; its worker killed beyond (the largest Excel "
        "journal the row limit lets in takes about 18 s on 2 cores: bench/results.md)",
    )
    parse_memory_bytes: int = Field(
        default=1024 * MiB,
        gt=64 * MiB,
        description="Address space of each parsing worker (RLIMIT_AS); killed beyond",
    )
    spool_dir: Path | None = Field(
        default=None, description="Where journals and packages are spooled (default: the TMPDIR)"
    )
    platform: PlatformSettings = Field(default_factory=PlatformSettings)

    @model_validator(mode="after")
    def _verify_account(self) -> IngestSettings:
        if self.verify_url and not (self.verify_app_id and self.verify_app_secret):
            raise ValueError(
                "AAP_INGEST_VERIFY_URL needs AAP_INGEST_VERIFY_APP_ID and "
                "AAP_INGEST_VERIFY_APP_SECRET"
            )
        return self

    @property
    def worker_limits(self) -> WorkerLimits:
        return WorkerLimits(self.parse_workers, self.parse_memory_bytes, self.parse_seconds)

    @property
    def journal_limits(self) -> JournalLimits:
        return JournalLimits(
            self.journal_max_rows, self.journal_max_columns, self.journal_max_cells
        )
