"""The local stack's connections to the OA vendors (钉钉, 飞书, 企业微信), as a customer's OA
administrator would configure them: each its own connection, with keys made at random once per
checkout (``.local/secrets/oa-vendors.json``), and the vendors' APIs stood in for on loopback
by ``devkit.oa_standin`` (``STANDIN_URL``) while the demo or a test runs it.

Fonds routed to them (``LOCAL_OA_ROUTES``): Q002 to DingTalk, Q003 to Feishu, Q004 to WeCom,
whose company also runs its expense claims (报销审批) there: those are archived under Q004.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from devkit.secretfile import kept

VENDORS = {"dingtalk": "dingtalk", "feishu": "feishu", "wecom": "wecom"}  # connection → vendor
STANDIN_PORT = 8109
STANDIN_URL = f"http://127.0.0.1:{STANDIN_PORT}"
# The approval definitions each OA runs for the archive.
DINGTALK_BORROWING = "PROC-ARCHIVE-BORROW"
FEISHU_BORROWING = "7C468A54-ARCHIVE-BORROW"
WECOM_BORROWING = "C4UE-ARCHIVE-BORROW"
WECOM_EXPENSE = "C4UE-EXPENSE-CLAIM"
EXPENSE_FONDS = "Q004"
# The OA user ids of the sample people, in each OA.
OA_USERS = {"manager75": "wangqiang", "caiwu01": "zhaomin", "liuyang-oa": "liuyang"}


def keys() -> dict[str, str]:
    """The connections' secrets, and the app credentials the stand-in accepts."""

    def aes_key() -> str:  # EncodingAESKey: 32 random bytes, Base64 without its "="
        return base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")

    return kept(
        "oa-vendors",
        lambda: {
            "dingtalk_token": secrets.token_urlsafe(16),
            "dingtalk_aes_key": aes_key(),
            "dingtalk_app_key": "ding" + secrets.token_hex(8),
            "dingtalk_app_secret": secrets.token_urlsafe(32),
            "feishu_encrypt_key": secrets.token_urlsafe(24),
            "feishu_verification_token": secrets.token_urlsafe(16),
            "feishu_app_id": "cli_" + secrets.token_hex(8),
            "feishu_app_secret": secrets.token_urlsafe(32),
            "wecom_token": secrets.token_urlsafe(16),
            "wecom_aes_key": aes_key(),
            "wecom_corp_id": "ww" + secrets.token_hex(8),
            "wecom_app_secret": secrets.token_urlsafe(32),
        },
    )


def connections() -> dict[str, dict[str, Any]]:
    """``AAP_APPROVAL_OA_VENDORS`` of the local stack."""
    k = keys()
    return {
        "dingtalk": {
            "vendor": "dingtalk",
            "token": k["dingtalk_token"],
            "aes_key": k["dingtalk_aes_key"],
            "receiver_id": k["dingtalk_app_key"],
            "app_id": k["dingtalk_app_key"],
            "app_secret": k["dingtalk_app_secret"],
            "api_base": STANDIN_URL,
            "processes": {DINGTALK_BORROWING: "borrowing"},
            "users": OA_USERS,
        },
        "feishu": {
            "vendor": "feishu",
            "encrypt_key": k["feishu_encrypt_key"],
            "verification_token": k["feishu_verification_token"],
            "app_id": k["feishu_app_id"],
            "app_secret": k["feishu_app_secret"],
            "api_base": STANDIN_URL,
            "processes": {FEISHU_BORROWING: "borrowing"},
            "users": OA_USERS,
        },
        "wecom": {
            "vendor": "wecom",
            "token": k["wecom_token"],
            "aes_key": k["wecom_aes_key"],
            "receiver_id": k["wecom_corp_id"],
            "app_secret": k["wecom_app_secret"],
            "api_base": STANDIN_URL,
            "processes": {WECOM_BORROWING: "borrowing", WECOM_EXPENSE: "expense"},
            "expense": {"fonds_code": EXPENSE_FONDS, "keys": {"发票号码": "invoice_number"}},
            "users": OA_USERS,
        },
    }


# Which vouchers wait for their OA approval record (AAP_ARCHIVE_APPROVALS_EXPECTED): the
# expense vouchers of the fonds whose expense claims run in WeCom; listed at once if missing.
APPROVALS_EXPECTED = {EXPENSE_FONDS: {"words": ["报销"], "wait_days": 0}}
