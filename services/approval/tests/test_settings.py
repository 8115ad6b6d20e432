"""No secret has a working default: the approval service does not start with a guessable key."""

import pytest
from pydantic import ValidationError

from approval.settings import ApprovalSettings


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AAP_OA_CONNECTIONS", '["seeyon", "weaver"]')
    monkeypatch.delenv("AAP_APPROVAL_OA_CALLBACK_KEYS", raising=False)
    monkeypatch.delenv("AAP_APPROVAL_OA_ROUTES", raising=False)
    monkeypatch.setenv("AAP_APPROVAL_OIDC_CLIENT_SECRET", "s" * 32)


def test_each_oa_systems_callback_key_is_required_and_long() -> None:
    with pytest.raises(ValidationError, match="oa_callback_keys"):
        ApprovalSettings()
    with pytest.raises(ValidationError, match="names no OA system's key"):
        ApprovalSettings(oa_callback_keys={})
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
    with pytest.raises(ValidationError, match=r"OA connections \['weaver'\] have no callback key"):
        ApprovalSettings(oa_callback_keys={"seeyon": "k" * 32}, oa_routes={"*": "seeyon"})
    with pytest.raises(ValidationError, match=r"callback keys of \['landray'\]: not in"):
        ApprovalSettings(oa_callback_keys=keys | {"landray": "l" * 32}, oa_routes={"*": "seeyon"})
    with pytest.raises(ValidationError, match=r"routes to \['landray'\]: not in"):
        ApprovalSettings(oa_callback_keys=keys, oa_routes={"Q001": "landray"})
    with pytest.raises(ValidationError, match="routes no fonds"):
        ApprovalSettings(oa_callback_keys=keys, oa_routes={})
