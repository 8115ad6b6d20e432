"""The event encryption and signature 飞书 Feishu (Lark) documents for events sent to a
developer's server ("将事件发送至开发者服务器", "接收事件").

- The key: SHA-256 of the app's Encrypt Key; AES-256-CBC, PKCS#7 padding (16-byte blocks).
- The ciphertext: base64 of a random 16-byte IV followed by the encrypted event.
- The signature (header ``X-Lark-Signature``): SHA-256, hex, over ``X-Lark-Request-Timestamp``
  ‖ ``X-Lark-Request-Nonce`` ‖ the Encrypt Key, UTF-8, followed by the request's raw body.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from approval.vendors.refusals import CallbackRefused, ciphertext, require_signature


class FeishuCrypt:
    def __init__(self, encrypt_key: str) -> None:
        if not encrypt_key:
            raise ValueError("the Feishu Encrypt Key is empty")
        self._encrypt_key = encrypt_key
        self._key = hashlib.sha256(encrypt_key.encode()).digest()

    def signature(self, timestamp: str, nonce: str, body: bytes) -> str:
        return hashlib.sha256((timestamp + nonce + self._encrypt_key).encode() + body).hexdigest()

    def verify(self, signature: str, timestamp: str, nonce: str, body: bytes) -> None:
        require_signature(self.signature(timestamp, nonce, body), signature, "X-Lark-Signature")

    def decrypt(self, encrypted: str) -> bytes:
        data = ciphertext(encrypted, "event ciphertext")
        if len(data) < 32:
            raise CallbackRefused("event ciphertext is shorter than an IV and one block")
        decryptor = Cipher(algorithms.AES(self._key), modes.CBC(data[:16])).decryptor()
        padded = decryptor.update(data[16:]) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        try:
            return unpadder.update(padded) + unpadder.finalize()
        except ValueError as error:
            raise CallbackRefused("event padding is wrong: not encrypted with this key") from error

    def encrypt(self, event: bytes, iv: bytes | None = None) -> str:
        """``event`` as Feishu sends it (a test's event, built as the vendor documents)."""
        iv = os.urandom(16) if iv is None else iv
        padder = padding.PKCS7(128).padder()
        padded = padder.update(event) + padder.finalize()
        encryptor = Cipher(algorithms.AES(self._key), modes.CBC(iv)).encryptor()
        return base64.b64encode(iv + encryptor.update(padded) + encryptor.finalize()).decode()
