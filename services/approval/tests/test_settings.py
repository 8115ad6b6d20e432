"""No secret has a working default: the approval service does not start with a guessable key."""

import pytest
from pydantic import ValidationError

from approval.settings import ApprovalSettings


def test_each_oa_systems_callback_key_is_required_and_long(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AAP_APPROVAL_OA_CALLBACK_KEYS", raising=False)
    with pytest.raises(ValidationError, match="oa_callback_keys"):
        ApprovalSettings()
    with pytest.raises(ValidationError, match="names no OA system's key"):
        ApprovalSettings(oa_callback_keys={})
    with pytest.raises(ValidationError, match="the key of weaver must be at least 32 bytes"):
        ApprovalSettings(oa_callback_keys={"seeyon": "k" * 32, "weaver": "change-me"})
    with pytest.raises(ValidationError, match="key id 'Seeyon OA'"):
        ApprovalSettings(oa_callback_keys={"Seeyon OA": "k" * 32})
    kept = ApprovalSettings(oa_callback_keys={"seeyon": "k" * 32})
    assert kept.callback_keys() == {"seeyon": b"k" * 32}
