"""The callback encryption of WeCom and DingTalk, against WeCom's own published example (the
URL check of its WXBizMsgCrypt samples: token, key, CorpID, signature and ciphertext)."""

import base64
import os

import pytest

from approval.vendors.message_crypt import MessageCrypt
from approval.vendors.refusals import CallbackRefused

# WeCom's published example (企业微信 加解密方案, WXBizMsgCrypt samples): the URL check.
TOKEN, CORP_ID = "QDG6eK", "wx5823bf96d3bd56c7"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
SIGNATURE, TIMESTAMP, NONCE = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589", "263014780"
ECHOSTR = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="


def test_wecoms_published_url_check_verifies_and_decrypts() -> None:
    crypt = MessageCrypt(TOKEN, AES_KEY, CORP_ID)
    assert crypt.signature(TIMESTAMP, NONCE, ECHOSTR) == SIGNATURE
    crypt.verify(SIGNATURE, TIMESTAMP, NONCE, ECHOSTR)
    assert crypt.decrypt(ECHOSTR) == b"1616140317555161061"


def test_a_reply_encrypted_here_is_what_the_vendor_decrypts() -> None:
    """DingTalk's receiver is the app key; its reply to every push is "success", encrypted."""
    crypt = MessageCrypt("tok123", base64.b64encode(os.urandom(32)).decode()[:43], "dingappkey")
    for message in (b"success", "审批通过：借阅凭证 记-0001".encode(), b"", b"x" * 1000):
        encrypted = crypt.encrypt(message)
        assert crypt.decrypt(encrypted) == message
    # The same random prefix gives the same ciphertext: the framing is deterministic.
    prefix = b"0123456789abcdef"
    assert crypt.encrypt(b"success", prefix) == crypt.encrypt(b"success", prefix)


def test_what_does_not_match_is_refused_naming_why() -> None:
    crypt = MessageCrypt(TOKEN, AES_KEY, CORP_ID)
    with pytest.raises(CallbackRefused, match="signature does not match"):
        crypt.verify(SIGNATURE, TIMESTAMP, "263014781", ECHOSTR)  # nonce altered
    with pytest.raises(CallbackRefused, match="receiver 'wx5823bf96d3bd56c7', not 'wxother'"):
        MessageCrypt(TOKEN, AES_KEY, "wxother").decrypt(ECHOSTR)
    other_key = MessageCrypt(TOKEN, "a" * 43, CORP_ID)
    with pytest.raises(CallbackRefused):
        other_key.decrypt(ECHOSTR)  # another key: the padding or the framing fails
    with pytest.raises(CallbackRefused, match="not base64"):
        crypt.decrypt("not*base64")
    with pytest.raises(CallbackRefused, match="whole AES blocks"):
        crypt.decrypt(base64.b64encode(b"short").decode())
    with pytest.raises(ValueError, match="43 characters"):
        MessageCrypt(TOKEN, AES_KEY[:-1], CORP_ID)
