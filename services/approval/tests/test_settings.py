"""No secret has a working default: the approval service does not start with a guessable key."""

import pytest
from pydantic import ValidationError

from approval.settings import ApprovalSettings


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AAP_OA_CONNECTIONS", '["seeyon", "weaver"]')
    monkeypatch.delenv("AAP_APPROVAL_OA_CALLBACK_KEYS", raising=False)
    monkeypatch.delenv("AAP_APPROVAL_OA_ROUTES", raising=False)
    monkeypatch.delenv("AAP_APPROVAL_OA_VENDORS", raising=False)
    monkeypatch.delenv("AAP_APPROVAL_OA_REST_STARTS", raising=False)
    monkeypatch.setenv("AAP_APPROVAL_OIDC_CLIENT_SECRET", "s" * 32)


def test_each_oa_systems_callback_key_is_required_and_long() -> None:
    with pytest.raises(ValidationError, match="oa_callback_keys"):
        ApprovalSettings()
    with pytest.raises(ValidationError, match="have neither a callback key nor a vendor's"):
        ApprovalSettings(oa_callback_keys={}, oa_routes={"*": "seeyon"})
    with pytest.raises(ValidationError, match="the key of weaver must be at least 32 bytes"):
        ApprovalSettings(oa_callback_keys={"seeyon": "k" * 32, "weaver": "change-me"})
    with pytest.raises(ValidationError, match="key id 'Seeyon OA'"):
        ApprovalSettings(oa_callback_keys={"Seeyon OA": "k" * 32})
    kept = ApprovalSettings(
        oa_callback_keys={"seeyon": "k" * 32, "weaver": "w" * 32}, oa_routes={"*": "seeyon"}
    )
    assert kept.callback_keys() == {"seeyon": b"k" * 32, "weaver": b"w" * 32}


def test_its_client_secret_at_the_identity_provider_is_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AAP_APPROVAL_OIDC_CLIENT_SECRET")
    keys = {"seeyon": "k" * 32, "weaver": "w" * 32}
    with pytest.raises(ValidationError, match="oidc_client_secret"):
        ApprovalSettings(oa_callback_keys=keys, oa_routes={"*": "seeyon"})


def test_keys_and_routes_name_only_the_platforms_oa_connections() -> None:
    keys = {"seeyon": "k" * 32, "weaver": "w" * 32}
    with pytest.raises(
        ValidationError, match=r"OA connections \['weaver'\] have neither a callback key nor"
    ):
        ApprovalSettings(oa_callback_keys={"seeyon": "k" * 32}, oa_routes={"*": "seeyon"})
    with pytest.raises(ValidationError, match=r"callback keys of \['landray'\]: not in"):
        ApprovalSettings(oa_callback_keys=keys | {"landray": "l" * 32}, oa_routes={"*": "seeyon"})
    with pytest.raises(ValidationError, match=r"routes to \['landray'\]: not in"):
        ApprovalSettings(oa_callback_keys=keys, oa_routes={"Q001": "landray"})
    with pytest.raises(ValidationError, match="routes no fonds"):
        ApprovalSettings(oa_callback_keys=keys, oa_routes={})


DINGTALK = {
    "vendor": "dingtalk",
    "token": "t0ken",
    "aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
    "receiver_id": "dingcorp",
    "app_id": "ding-app-key",
    "app_secret": "ding-app-secret",
    "processes": {"PROC-BORROW": "borrowing"},
    "users": {"manager75": "wangqiang"},
}


def test_a_vendor_connection_has_all_its_keys_and_a_well_formed_aes_key() -> None:
    keys = {"seeyon": "k" * 32}
    kept = ApprovalSettings(
        oa_callback_keys=keys, oa_vendors={"weaver": DINGTALK}, oa_routes={"*": "weaver"}
    )
    assert kept.oa_vendors["weaver"].users == {"manager75": "wangqiang"}
    assert "t0ken" not in repr(kept)  # the keys are secrets
    for broken, reason in (
        ({k: v for k, v in DINGTALK.items() if k != "aes_key"}, "needs aes_key"),
        (DINGTALK | {"aes_key": "short"}, "43 characters, not 5"),
        (DINGTALK | {"vendor": "feishu"}, "needs encrypt_key, verification_token"),
        (DINGTALK | {"processes": {}}, "processes"),
        ({k: v for k, v in DINGTALK.items() if k != "app_secret"}, "app_secret"),
    ):
        with pytest.raises(ValidationError, match=reason):
            ApprovalSettings(
                oa_callback_keys=keys, oa_vendors={"weaver": broken}, oa_routes={"*": "weaver"}
            )
    with pytest.raises(ValidationError, match=r"vendor connections \['landray'\]: not in"):
        ApprovalSettings(
            oa_callback_keys=keys | {"weaver": "w" * 32},
            oa_vendors={"landray": DINGTALK},
            oa_routes={"*": "weaver"},
        )


def test_a_profile_is_named_for_a_connection_with_a_key_and_must_exist() -> None:
    keys = {"seeyon": "k" * 32, "weaver": "w" * 32}
    kept = ApprovalSettings(
        oa_callback_keys=keys, oa_routes={"*": "weaver"}, oa_profiles={"weaver": "weaver-e9"}
    )
    assert kept.profiles()["weaver-e9"].decisions["submit"].value == "approved"
    with pytest.raises(ValidationError, match=r"no profile named \['landray-ekp'\]"):
        ApprovalSettings(
            oa_callback_keys=keys, oa_routes={"*": "weaver"}, oa_profiles={"weaver": "landray-ekp"}
        )


def test_an_on_premise_oa_started_by_rest_is_one_of_the_platforms_connections() -> None:
    keys = {"seeyon": "k" * 32, "weaver": "w" * 32}
    rest = {
        "url": "https://oa.example.cn/api/workflow/paService/doCreateRequest",
        "headers": {"token": "t" * 24},
        "body": {"workflowId": "1024", "requestName": "{title}"},
        "instance_id": "data.requestid",
    }
    kept = ApprovalSettings(
        oa_callback_keys=keys, oa_routes={"*": "weaver"}, oa_rest_starts={"weaver": rest}
    )
    assert "t" * 24 not in repr(kept)  # its token is a secret
    assert kept.oa_rest_starts["weaver"].oa_user_of("liuyang") == "liuyang"  # no mapping: same
    with pytest.raises(ValidationError, match=r"REST starts of \['landray'\]: not in"):
        ApprovalSettings(
            oa_callback_keys=keys, oa_routes={"*": "weaver"}, oa_rest_starts={"landray": rest}
        )
    with pytest.raises(ValidationError, match=r"\['weaver'\]: a vendor's connection starts"):
        ApprovalSettings(
            oa_callback_keys=keys,
            oa_routes={"*": "weaver"},
            oa_vendors={"weaver": DINGTALK},
            oa_rest_starts={"weaver": rest},
        )
    with pytest.raises(ValidationError, match="url"):
        ApprovalSettings(
            oa_callback_keys=keys,
            oa_routes={"*": "weaver"},
            oa_rest_starts={"weaver": rest | {"url": "file:///etc/passwd"}},
        )
