"""Fuzzing the OA callback (the one endpoint an outside system posts raw bytes to): whatever the
headers and body, it is refused with a named reason or read as a decision, never a crash."""

from __future__ import annotations

import contextlib
import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from approval.domain.oa_callback import CallbackRejected, verify
from contracts.events import OaDecisionMade
from contracts.oa_callback import signed_headers
from devkit.fuzzing import JSON, fuzz_settings

pytestmark = pytest.mark.fuzz
SECRET = b"fuzzing-secret"
KEYS = {"seeyon": SECRET}
# Headers arrive decoded as Latin-1: any of its characters, anywhere.
HEADER = st.none() | st.text(alphabet=st.characters(max_codepoint=255), max_size=80)
NOW = st.builds(lambda: str(int(time.time())))  # a timestamp that passes, to reach what follows
NONCE = st.text(alphabet=st.characters(max_codepoint=255), min_size=8, max_size=128)


@fuzz_settings()
@given(HEADER | NOW, HEADER | NONCE, HEADER, st.binary(max_size=500))
def test_any_headers_are_verified_or_refused_naming_why(
    timestamp: str | None, nonce: str | None, signature: str | None, body: bytes
) -> None:
    with pytest.raises(CallbackRejected):
        verify(
            KEYS,
            key_id="seeyon",
            timestamp=timestamp,
            nonce=nonce,
            signature=signature,
            body=body,
            now=time.time(),
        )


@fuzz_settings()
@given(st.binary(max_size=2000) | JSON.map(lambda v: json.dumps(v).encode()))
def test_any_signed_body_is_read_as_a_decision_or_refused(body: bytes) -> None:
    headers = signed_headers("seeyon", SECRET, body)
    verify(
        KEYS,
        key_id=headers["X-AAP-Key-Id"],
        timestamp=headers["X-AAP-Timestamp"],
        nonce=headers["X-AAP-Nonce"],
        signature=headers["X-AAP-Signature"],
        body=body,
        now=time.time(),
    )
    with contextlib.suppress(ValidationError):  # 422, naming the fields
        OaDecisionMade.model_validate_json(body)
