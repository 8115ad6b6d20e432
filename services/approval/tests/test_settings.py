"""No secret has a working default: the approval service does not start with a guessable key."""

import pytest
from pydantic import ValidationError

from approval.settings import ApprovalSettings


def test_the_callback_key_is_required_and_long(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AAP_APPROVAL_OA_CALLBACK_SECRET", raising=False)
    with pytest.raises(ValidationError, match="oa_callback_secret"):
        ApprovalSettings()
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        ApprovalSettings(oa_callback_secret="local-oa-secret-change-me")
    kept = ApprovalSettings(oa_callback_secret="k" * 32)
    assert kept.oa_callback_secret.get_secret_value() == "k" * 32
