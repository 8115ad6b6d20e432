"""An OA connection to a vendor's approval product, as configuration: which vendor, its keys
(secrets, no defaults), which of its approval definitions run which archive flow, and which
platform principal each of its users is."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from approval.vendors.dingtalk import DingTalkCallbacks
from approval.vendors.feishu import FeishuCallbacks
from approval.vendors.feishu_crypt import FeishuCrypt
from approval.vendors.message_crypt import MessageCrypt
from approval.vendors.wecom import WeComCallbacks

Vendor = Literal["dingtalk", "feishu", "wecom"]
Callbacks = DingTalkCallbacks | FeishuCallbacks | WeComCallbacks


class VendorConnection(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    vendor: Vendor
    token: SecretStr | None = Field(default=None, description="DingTalk, WeCom: the Token")
    aes_key: SecretStr | None = Field(
        default=None, description="DingTalk, WeCom: the 43-character EncodingAESKey"
    )
    receiver_id: str | None = Field(
        default=None, description="DingTalk: the corp id or app key; WeCom: the CorpID"
    )
    encrypt_key: SecretStr | None = Field(default=None, description="Feishu: the Encrypt Key")
    verification_token: SecretStr | None = Field(
        default=None, description="Feishu: the Verification Token"
    )
    processes: dict[str, Literal["borrowing"]] = Field(
        min_length=1,
        description="Which approval definitions (DingTalk process code, Feishu approval code, "
        "WeCom template id) run which archive flow; the OA's other approvals are not ours",
    )
    users: dict[str, str] = Field(
        description="The OA's user id → the platform principal: an OA user id is no platform "
        "identity without this mapping"
    )

    @model_validator(mode="after")
    def _complete(self) -> VendorConnection:
        needed = {
            "dingtalk": ("token", "aes_key", "receiver_id"),
            "wecom": ("token", "aes_key", "receiver_id"),
            "feishu": ("encrypt_key", "verification_token"),
        }[self.vendor]
        if missing := [n for n in needed if not getattr(self, n)]:
            raise ValueError(f"a {self.vendor} connection needs {', '.join(missing)}")
        self.callbacks()  # a malformed key is refused now, not at the first callback
        return self

    def callbacks(self) -> Callbacks:
        if self.vendor == "feishu":
            assert self.encrypt_key and self.verification_token
            crypt = FeishuCrypt(self.encrypt_key.get_secret_value())
            return FeishuCallbacks(crypt, self.verification_token.get_secret_value())
        assert self.token and self.aes_key and self.receiver_id
        message_crypt = MessageCrypt(
            self.token.get_secret_value(), self.aes_key.get_secret_value(), self.receiver_id
        )
        if self.vendor == "dingtalk":
            return DingTalkCallbacks(message_crypt)
        return WeComCallbacks(message_crypt)
