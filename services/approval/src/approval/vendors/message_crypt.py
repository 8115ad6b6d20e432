"""The callback encryption 企业微信 WeCom documents (its "加解密方案", the WXBizMsgCrypt
sample libraries) and 钉钉 DingTalk's HTTP event subscription follows (DingTalk-Callback-Crypto).

- The key: the 43-character EncodingAESKey plus "=", base64-decoded: 32 bytes, AES-256.
- The cipher: AES-256-CBC, the IV the key's first 16 bytes, PKCS#7 padding to a 32-byte block.
- The plaintext: 16 random bytes ‖ the message's length (4 bytes, big-endian) ‖ the message ‖
  the receiver's id (WeCom: the CorpID; DingTalk: the corp id, app key or suite key).
- The signature: SHA-1, hex, over the token, timestamp, nonce and ciphertext, sorted as strings
  and joined.

A callback whose signature, padding or receiver id does not match is refused with
``CallbackRefused``, naming what was wrong.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from approval.vendors.refusals import CallbackRefused, ciphertext, require_signature

BLOCK = 32  # the vendors' PKCS#7 block size, not AES's 16
KEY_CHARS = 43


class MessageCrypt:
    def __init__(self, token: str, encoding_aes_key: str, receiver_id: str) -> None:
        if len(encoding_aes_key) != KEY_CHARS:
            raise ValueError(
                f"the EncodingAESKey has {KEY_CHARS} characters, not {len(encoding_aes_key)}"
            )
        try:
            self._key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except binascii.Error as error:
            raise ValueError(f"the EncodingAESKey is not base64: {error}") from error
        self._token, self._receiver = token, receiver_id

    def signature(self, timestamp: str, nonce: str, encrypted: str) -> str:
        joined = "".join(sorted([self._token, timestamp, nonce, encrypted]))
        return hashlib.sha1(joined.encode()).hexdigest()  # noqa: S324 - the vendors' own scheme

    def verify(self, signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        require_signature(self.signature(timestamp, nonce, encrypted), signature, "signature")

    def decrypt(self, encrypted: str) -> bytes:
        """The message inside ``encrypted``, once its padding and receiver id check."""
        data = ciphertext(encrypted, "callback ciphertext")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        # Decrypted with another key, the padding is wrong, or (one time in a few hundred)
        # happens to look right and the framing is not: one refusal, whichever it was.
        wrong_key = CallbackRefused("callback padding is wrong: not encrypted with this key")
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise wrong_key
        plain = plain[:-pad]
        if len(plain) < 20:
            raise wrong_key
        (length,) = struct.unpack(">I", plain[16:20])
        message, receiver = plain[20 : 20 + length], plain[20 + length :]
        if len(message) != length:
            raise wrong_key
        if receiver != self._receiver.encode():
            raise CallbackRefused(
                f"callback is for receiver {receiver.decode(errors='replace')!r}, "
                f"not {self._receiver!r}"
            )
        return message

    def encrypt(self, message: bytes, random_prefix: bytes | None = None) -> str:
        """``message`` framed, padded and encrypted, base64 (a reply, or a test's callback)."""
        prefix = os.urandom(16) if random_prefix is None else random_prefix
        plain = prefix + struct.pack(">I", len(message)) + message + self._receiver.encode()
        pad = BLOCK - len(plain) % BLOCK
        encryptor = self._cipher().encryptor()
        data = encryptor.update(plain + bytes([pad]) * pad) + encryptor.finalize()
        return base64.b64encode(data).decode()

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))
