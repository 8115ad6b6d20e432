"""Feishu's event encryption and signature, against the example its open platform publishes
(Encrypt Key "test key": the ciphertext below is "hello world")."""

import base64
import json

import pytest

from approval.vendors.feishu import FeishuCallbacks
from approval.vendors.feishu_crypt import FeishuCrypt
from approval.vendors.refusals import CallbackRefused

EXAMPLE_KEY, EXAMPLE = "test key", "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk="


def test_feishus_published_example_decrypts() -> None:
    assert FeishuCrypt(EXAMPLE_KEY).decrypt(EXAMPLE) == b"hello world"


def test_an_approval_event_round_trips_and_its_signature_covers_the_raw_body() -> None:
    crypt = FeishuCrypt("an encrypt key of this app")
    event = {
        "uuid": "41b5f371157e3b2b",
        "type": "event_callback",
        "event": {"type": "approval_instance", "status": "APPROVED", "instance_code": "审批-1"},
    }
    plain = json.dumps(event, ensure_ascii=False).encode()
    body = json.dumps({"encrypt": crypt.encrypt(plain)}).encode()
    timestamp, nonce = "1732860000", "a1b2c3"
    signature = crypt.signature(timestamp, nonce, body)
    crypt.verify(signature, timestamp, nonce, body)
    assert json.loads(crypt.decrypt(json.loads(body)["encrypt"])) == event
    with pytest.raises(CallbackRefused, match="X-Lark-Signature does not match"):
        crypt.verify(signature, timestamp, nonce, body + b" ")  # one byte more
    with pytest.raises(CallbackRefused, match="X-Lark-Signature does not match"):
        FeishuCrypt("another app's key").verify(signature, timestamp, nonce, body)


def test_what_another_key_encrypted_is_refused() -> None:
    with pytest.raises(CallbackRefused):
        FeishuCrypt("not the test key").decrypt(EXAMPLE)
    with pytest.raises(CallbackRefused, match="not base64"):
        FeishuCrypt(EXAMPLE_KEY).decrypt("%%%")
    with pytest.raises(CallbackRefused, match="not whole AES blocks"):
        FeishuCrypt(EXAMPLE_KEY).decrypt("AAAA")
    with pytest.raises(CallbackRefused, match="shorter than an IV and one block"):
        FeishuCrypt(EXAMPLE_KEY).decrypt(base64.b64encode(bytes(16)).decode())


def test_an_unsigned_post_learns_nothing_from_why_it_does_not_decrypt() -> None:
    """A padding oracle, once: an unsigned post was decrypted, and bad padding and bad JSON got
    different answers, so that probing could tell one from the other."""
    crypt = FeishuCrypt("an encrypt key of this app")
    callbacks = FeishuCallbacks(crypt, "the verification token")
    bad_padding = base64.b64encode(bytes(16) + bytes(range(16))).decode()
    not_json = crypt.encrypt(b"not json")
    wrong_token = crypt.encrypt(json.dumps({"token": "x", "type": "url_verification"}).encode())
    said = set()
    for encrypted in (bad_padding, not_json, wrong_token):
        body = json.dumps({"encrypt": encrypted}).encode()
        with pytest.raises(CallbackRefused) as refused:
            callbacks.receive({}, {}, body, now=0)
        said.add(str(refused.value))
    assert said == {"the body is not an event of this app (its Encrypt Key and Verification Token)"}
