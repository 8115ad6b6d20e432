"""An OA connection to a vendor's approval product, as configuration: which vendor, its keys
(secrets, no defaults), which of its approval definitions run which archive flow, and which
platform principal each of its users is."""

from __future__ import annotations

from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from approval.vendors.dingtalk import DingTalkCallbacks
from approval.vendors.feishu import FeishuCallbacks
from approval.vendors.feishu_crypt import FeishuCrypt
from approval.vendors.message_crypt import MessageCrypt
from approval.vendors.starters import (
    DingTalkStarter,
    FeishuStarter,
    VendorStarter,
    WeComStarter,
)
from approval.vendors.wecom import WeComCallbacks

Vendor = Literal["dingtalk", "feishu", "wecom"]
FormField = Literal["reason", "days", "mode", "records", "fonds"]
DEFAULT_FORM: dict[FormField, str] = {
    "reason": "借阅事由",
    "days": "借阅天数",
    "mode": "借阅方式",
    "records": "借阅档案",
    "fonds": "全宗号",
}
PUBLIC_API: dict[Vendor, str] = {
    "dingtalk": "https://api.dingtalk.com",
    "feishu": "https://open.feishu.cn",
    "wecom": "https://qyapi.weixin.qq.com",
}
Callbacks = DingTalkCallbacks | FeishuCallbacks | WeComCallbacks
Flow = Literal["borrowing", "expense"]
KeyKind = Literal["invoice_number", "voucher_no"]


class ExpenseFiling(BaseModel):
    """Where the connection's expense and payment approvals (报销审批, 付款审批) are archived,
    and which of their form fields hold the business keys the ERP's vouchers share."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fonds_code: str = Field(min_length=1, description="全宗号 the approvals are archived under")
    keys: dict[str, KeyKind] = Field(
        min_length=1,
        description='The form field (by its label) → the key it holds, e.g. {"发票号码": '
        '"invoice_number", "凭证号": "voucher_no"}; several numbers in one field are split',
    )


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
    app_id: str | None = Field(default=None, description="DingTalk: the AppKey; Feishu: the App ID")
    app_secret: SecretStr = Field(
        description="The app's secret (WeCom: the approval app's Secret), for the access token "
        "that starts approvals"
    )
    api_base: str | None = Field(
        default=None, description="The vendor's API address; its public one unless set"
    )
    form: dict[FormField, str] = Field(
        default_factory=lambda: dict(DEFAULT_FORM),
        description="The approval form's field for each part of the request: DingTalk the "
        "component's name, Feishu the widget id, WeCom the control id",
    )
    processes: dict[str, Flow] = Field(
        min_length=1,
        description="Which approval definitions (DingTalk process code, Feishu approval code, "
        "WeCom template id) run which archive flow (borrowing; expense: archived as a record); "
        "the OA's other approvals are not ours",
    )
    expense: ExpenseFiling | None = Field(
        default=None, description="For the expense processes: where they are filed, by which keys"
    )
    users: dict[str, str] = Field(
        description="The OA's user id → the platform principal: an OA user id is no platform "
        "identity without this mapping"
    )

    @model_validator(mode="after")
    def _complete(self) -> VendorConnection:
        needed = {
            "dingtalk": ("token", "aes_key", "receiver_id", "app_id"),
            "wecom": ("token", "aes_key", "receiver_id"),
            "feishu": ("encrypt_key", "verification_token", "app_id"),
        }[self.vendor]
        if missing := [n for n in needed if not getattr(self, n)]:
            raise ValueError(f"a {self.vendor} connection needs {', '.join(missing)}")
        if "expense" in self.processes.values() and self.expense is None:
            raise ValueError("expense processes need the connection's expense filing (fonds, keys)")
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

    def starter(self, http: httpx.AsyncClient) -> VendorStarter:
        base = self.api_base or PUBLIC_API[self.vendor]
        secret = self.app_secret.get_secret_value()
        if self.vendor == "dingtalk":
            assert self.app_id
            return DingTalkStarter(base, http, self.app_id, secret)
        if self.vendor == "feishu":
            assert self.app_id
            return FeishuStarter(base, http, self.app_id, secret)
        assert self.receiver_id
        return WeComStarter(base, http, self.receiver_id, secret)

    @property
    def corp_id(self) -> str:
        """The OA tenant the connection speaks for."""
        return self.receiver_id or self.app_id or ""

    def process_for(self, flow: str) -> str:
        """The approval definition that runs ``flow`` in this OA."""
        return next(code for code, f in self.processes.items() if f == flow)

    def oa_user_of(self, principal: str) -> str | None:
        """The OA's user id of a platform principal, by the same mapping."""
        return next((oa for oa, p in self.users.items() if p == principal), None)
