from __future__ import annotations

import os
import socket
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from archive.domain.approval_record import ExpectedApprovals
from archive.domain.archive_code import DEFAULT_RULE
from servicekit.settings import PlatformSettings
from servicekit.workers import WorkerLimits


class ExpectedApprovalsSetting(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    words: tuple[str, ...] = Field(min_length=1)
    wait_days: float = Field(ge=0)

    def rule(self) -> ExpectedApprovals:
        return ExpectedApprovals(self.words, timedelta(days=self.wait_days))


class ArchiveSettings(BaseSettings):
    """``AAP_ARCHIVE_*``; shared infrastructure comes from ``AAP_*`` (PlatformSettings)."""

    model_config = SettingsConfigDict(env_prefix="AAP_ARCHIVE_", extra="ignore")

    http_host: str = "127.0.0.1"
    http_port: int = 8102
    permission_url: str = "http://127.0.0.1:8104"
    oidc_client_id: str = Field(
        default="aap-archive", description="The archive's client at the IdP, for its own token"
    )
    oidc_client_secret: SecretStr = Field(description="That client's secret: no default")
    archive_code_rule: str = DEFAULT_RULE
    instance_id: str = Field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}",
        description="Names this process's own consumer group for its search index",
    )
    clamd_address: str | None = Field(
        default=None,
        description="host:port of ClamAV's clamd for the re-check's virus scan (4-1, 4-2); "
        "without it the re-check says those items were not performed",
    )
    read_workers: int = Field(default=2, ge=1, description="Worker processes reading originals")
    read_memory_bytes: int = Field(default=1024 * 1024 * 1024, ge=64 * 1024 * 1024)
    read_seconds: float = Field(default=30, gt=0, description="Per original read (3-4)")
    recheck_sweep_seconds: float = Field(
        default=86400, ge=0, description="Re-check every record this often; 0 turns it off"
    )
    handover_mark_lease_seconds: float = Field(
        default=3600,
        gt=0,
        description="A handover's mark on its year, left by a process that died before it kept "
        "the handover, is taken over after this long",
    )
    cjk_font: Path = Field(
        default=Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
        description="The CJK font embedded in the PDFs the archive renders (OA approval "
        "records): Debian's fonts-wqy-microhei, or any TrueType/OpenType CJK font",
    )
    approvals_expected: dict[str, ExpectedApprovalsSetting] = Field(
        default_factory=dict,
        description="By fonds: which vouchers wait for an OA approval record (words of their "
        '摘要) and how many days before they are listed, e.g. {"Q001": {"words": ["报销", '
        '"付款"], "wait_days": 7}}',
    )
    bank_accounts: dict[str, list[str]] = Field(
        default_factory=dict,
        description="By fonds: the 银行存款 accounts (科目代码) a complete month holds a bank "
        'statement of, besides those its vouchers book, e.g. {"Q001": ["100201", "100202"]}',
    )
    platform: PlatformSettings = Field(default_factory=PlatformSettings)

    @property
    def read_limits(self) -> WorkerLimits:
        return WorkerLimits(self.read_workers, self.read_memory_bytes, self.read_seconds)
