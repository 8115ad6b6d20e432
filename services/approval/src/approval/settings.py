from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from approval.domain.form_profile import BUILT_IN, DecisionProfile, load_profiles
from approval.vendors.connection import ExpenseFiling, VendorConnection
from approval.vendors.rest_start import RestStart
from servicekit.settings import PlatformSettings

MIN_SECRET_BYTES = 32
KEY_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


class ApprovalSettings(BaseSettings):
    """``AAP_APPROVAL_*``; shared infrastructure comes from ``AAP_*`` (PlatformSettings)."""

    model_config = SettingsConfigDict(env_prefix="AAP_APPROVAL_", extra="ignore")

    http_host: str = "127.0.0.1"
    http_port: int = 8103
    permission_url: str = "http://127.0.0.1:8104"
    oidc_client_id: str = Field(
        default="aap-approval",
        description="The approval service's client at the IdP, for its token",
    )
    oidc_client_secret: SecretStr = Field(description="That client's secret: no default")
    oa_callback_keys: dict[str, SecretStr] = Field(
        description="Each OA system's own HMAC key for its signed callbacks, by key id (JSON, "
        'e.g. {"seeyon": "…"}): at least 32 random bytes each, no default'
    )
    oa_vendors: dict[str, VendorConnection] = Field(
        default_factory=dict,
        description="The OA connections to a vendor's approval product (钉钉, 飞书, 企业微信) "
        "by connection name (JSON): vendor, keys, approval definitions, user mapping",
    )
    oa_rest_starts: dict[str, RestStart] = Field(
        default_factory=dict,
        description="The on-premise OA connections (泛微, 致远, 蓝凌) whose approvals are started "
        "by a configured REST call (JSON, by connection name): url, headers, body, instance_id",
    )
    oa_expense_filings: dict[str, ExpenseFiling] = Field(
        default_factory=dict,
        description="The on-premise OA connections that post their finished expense approvals "
        "(signed, POST /v1/oa/approval-records), where they are archived and by which keys "
        '(JSON, e.g. {"weaver": {"fonds_code": "Q001", "keys": {"发票号码": "invoice_number"}}})',
    )
    oa_users: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Per on-premise OA connection (signed callbacks, its Kafka topic), its users "
        'as platform principals (JSON, e.g. {"seeyon": {"王强": "wangqiang"}}): an approval by '
        "a user not mapped is refused, so that nobody approves their own request unnoticed",
    )
    oa_profiles: dict[str, str] = Field(
        default_factory=dict,
        description="The OA connections whose signed callbacks post their OA's own form, and the "
        'field-mapping profile that reads it (JSON, e.g. {"weaver": "weaver-e9"})',
    )
    oa_profile_dir: Path | None = Field(
        default=None, description="A folder of the customer's own profiles, beside the built-in"
    )
    oa_sweep_seconds: float = Field(
        default=15,
        description="How often the OAs that could not be asked are asked again, and requests "
        "undecided for too long expired (0: never)",
    )
    oa_decide_within_days: int = Field(
        default=14,
        ge=1,
        description="A request the OA has not decided after this many days expires",
    )
    oa_routes: dict[str, str] = Field(
        description="Which OA connection decides borrowing for which fonds (JSON, e.g. "
        '{"Q001": "seeyon", "*": "weaver"}; "*" for every fonds not named)'
    )
    platform: PlatformSettings = Field(default_factory=PlatformSettings)

    @field_validator("oa_callback_keys")
    @classmethod
    def _strong(cls, keys: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for key_id, secret in keys.items():
            if not KEY_ID.fullmatch(key_id):
                raise ValueError(f"key id {key_id!r}: 1–64 of a-z, 0-9 and -")
            if len(secret.get_secret_value().encode()) < MIN_SECRET_BYTES:
                raise ValueError(
                    f"the key of {key_id} must be at least {MIN_SECRET_BYTES} bytes (random): "
                    "a short key can be guessed, and every forged decision grants access"
                )
        return keys

    @model_validator(mode="after")
    def _connected(self) -> ApprovalSettings:
        """Keys and routes name only OA connections the platform has (AAP_OA_CONNECTIONS), and
        each connection has its key: a decision comes from a known system or not at all."""
        connected = set(self.platform.oa_connections)
        if unknown := set(self.oa_callback_keys) - connected:
            raise ValueError(f"callback keys of {sorted(unknown)}: not in AAP_OA_CONNECTIONS")
        if unknown := set(self.oa_profiles) - set(self.oa_callback_keys):
            raise ValueError(f"profiles for {sorted(unknown)}: they have no callback key")
        if missing := set(self.oa_profiles.values()) - set(self.profiles()):
            raise ValueError(f"no profile named {sorted(missing)}")
        if unknown := set(self.oa_vendors) - connected:
            raise ValueError(f"vendor connections {sorted(unknown)}: not in AAP_OA_CONNECTIONS")
        if unknown := set(self.oa_expense_filings) - set(self.oa_callback_keys):
            raise ValueError(f"expense filings of {sorted(unknown)}: they have no callback key")
        if unknown := set(self.oa_users) - set(self.oa_callback_keys):
            raise ValueError(f"OA users of {sorted(unknown)}: they have no callback key")
        if unknown := set(self.oa_rest_starts) - connected:
            raise ValueError(f"REST starts of {sorted(unknown)}: not in AAP_OA_CONNECTIONS")
        if both := set(self.oa_rest_starts) & set(self.oa_vendors):
            raise ValueError(f"{sorted(both)}: a vendor's connection starts by the vendor's API")
        if keyless := connected - set(self.oa_callback_keys) - set(self.oa_vendors):
            raise ValueError(
                f"OA connections {sorted(keyless)} have neither a callback key nor a vendor's"
            )
        if not self.oa_routes:
            raise ValueError("AAP_APPROVAL_OA_ROUTES routes no fonds to an OA connection")
        if unrouted := set(self.oa_routes.values()) - connected:
            raise ValueError(f"routes to {sorted(unrouted)}: not in AAP_OA_CONNECTIONS")
        return self

    def profiles(self) -> dict[str, DecisionProfile]:
        folders = [BUILT_IN, *([self.oa_profile_dir] if self.oa_profile_dir else [])]
        return load_profiles(*folders)

    def callback_keys(self) -> dict[str, bytes]:
        return {k: v.get_secret_value().encode() for k, v in self.oa_callback_keys.items()}
