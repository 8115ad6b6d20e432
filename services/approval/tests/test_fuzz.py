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
from approval.domain.oa_states import UnknownState
from approval.vendors.connection import Callbacks
from approval.vendors.dingtalk import DingTalkCallbacks
from approval.vendors.feishu import FeishuCallbacks
from approval.vendors.feishu_crypt import FeishuCrypt
from approval.vendors.message_crypt import MessageCrypt
from approval.vendors.refusals import CallbackRefused
from approval.vendors.wecom import WeComCallbacks
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


# --- the vendors' callbacks: whatever a sender posts, a named refusal or an answer ------------

AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
GATES: dict[str, Callbacks] = {
    "dingtalk": DingTalkCallbacks(MessageCrypt("t", AES_KEY, "dingcorp")),
    "wecom": WeComCallbacks(MessageCrypt("t", AES_KEY, "wwcorp")),
    "feishu": FeishuCallbacks(FeishuCrypt("k"), "v"),
}
PARAMS = st.dictionaries(
    st.sampled_from(["signature", "msg_signature", "timestamp", "nonce", "echostr", "x"])
    | st.sampled_from(["x-lark-request-timestamp", "x-lark-request-nonce", "x-lark-signature"]),
    st.text(alphabet=st.characters(max_codepoint=255), max_size=60),
)


@fuzz_settings()
@given(st.sampled_from(sorted(GATES)), PARAMS, PARAMS, st.binary(max_size=1000))
def test_any_unsigned_vendor_callback_is_refused_naming_why(
    vendor: str, query: dict[str, str], headers: dict[str, str], body: bytes
) -> None:
    with pytest.raises(CallbackRefused):
        GATES[vendor].receive(query, headers, body, time.time())


PLAINTEXT = (
    st.binary(max_size=1000)
    | JSON.map(lambda v: json.dumps(v).encode())
    | st.fixed_dictionaries(
        {
            "EventType": st.sampled_from(["bpms_instance_change", "bpms_task_change"]),
            "type": st.sampled_from(["start", "finish", "terminate", "cancel", "x"]),
            "result": st.sampled_from(["agree", "refuse", "redirect", None, 1]),
            "processInstanceId": st.text(max_size=5) | st.integers(),
            "processCode": st.text(max_size=5),
            "staffId": st.text(max_size=5) | st.none(),
            "finishTime": st.integers() | st.text(max_size=5),
        }
    ).map(lambda v: json.dumps(v).encode())
    | st.text(max_size=300)
    .map(lambda t: f"<xml><Event>sys_approval_change</Event>{t}</xml>")
    .map(str.encode)
)


@fuzz_settings()
@given(PLAINTEXT)
def test_any_event_signed_and_encrypted_with_the_right_keys_is_read_or_refused(
    plain: bytes,
) -> None:
    """Past the signature and the decryption, what the event says is still checked: a vendor's
    event we cannot read is refused naming why, never a crash (a 500)."""
    now = time.time()
    crypt = MessageCrypt("t", AES_KEY, "dingcorp")
    encrypted = crypt.encrypt(plain)
    ts = str(int(now))
    query = {"signature": crypt.signature(ts, "n", encrypted), "timestamp": ts, "nonce": "n"}
    with contextlib.suppress(CallbackRefused, UnknownState):
        GATES["dingtalk"].receive(query, {}, json.dumps({"encrypt": encrypted}).encode(), now)
    wecom = MessageCrypt("t", AES_KEY, "wwcorp")
    encrypted = wecom.encrypt(plain)
    query = {"msg_signature": wecom.signature(ts, "n", encrypted), "timestamp": ts, "nonce": "n"}
    body = f"<xml><Encrypt>{encrypted}</Encrypt></xml>".encode()
    with contextlib.suppress(CallbackRefused, UnknownState):
        GATES["wecom"].receive(query, {}, body, now)
    feishu = FeishuCrypt("k")
    body = json.dumps({"encrypt": feishu.encrypt(plain)}).encode()
    headers = {"x-lark-request-timestamp": ts, "x-lark-request-nonce": "n"}
    headers["x-lark-signature"] = feishu.signature(ts, "n", body)
    with contextlib.suppress(CallbackRefused, UnknownState):
        GATES["feishu"].receive({}, headers, body, now)
