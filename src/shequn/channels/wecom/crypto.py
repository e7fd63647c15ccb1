"""WeCom's callback encryption (WXBizMsgCrypt): signature, AES-256-CBC, 32-byte PKCS#7.

Signature: sha1 of the sorted concatenation of token, timestamp, nonce and the ciphertext.
Key: base64 of EncodingAESKey + "=" (32 bytes); IV: the key's first 16 bytes. Plaintext:
16 random bytes | 4-byte big-endian length | message | receiveid (the corp id).
Everything here checks what wechatpy does not: the pad value (1..32) and the receiveid.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
from enum import StrEnum

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32
"""WeCom pads to 32 bytes, not AES's 16."""


class Rejection(StrEnum):
    """Why a callback was refused; the value is WeCom's own error code name."""

    SIGNATURE = "signature"  # -40001
    XML = "xml"  # -40002
    AES_KEY = "aes_key"  # -40004
    RECEIVEID = "receiveid"  # -40005
    DECRYPT = "decrypt"  # -40007
    BASE64 = "base64"  # -40010


class CallbackRejected(Exception):
    def __init__(self, reason: Rejection, detail: str = "") -> None:
        self.reason = reason
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)


def aes_key_of(encoding_aes_key: str) -> bytes:
    """The 32-byte key of an EncodingAESKey (43 base64 characters)."""
    if len(encoding_aes_key) != 43:
        raise CallbackRejected(Rejection.AES_KEY, "EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise CallbackRejected(Rejection.AES_KEY, "EncodingAESKey is not base64") from exc
    if len(key) != 32:
        raise CallbackRejected(Rejection.AES_KEY, "EncodingAESKey must decode to 32 bytes")
    return key


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted((token, timestamp, nonce, encrypted))).encode()).hexdigest()


class WXBizMsgCrypt:
    """One app's callback crypto: its token, EncodingAESKey and corp id."""

    def __init__(self, token: str, encoding_aes_key: str, receiveid: str) -> None:
        self.token = token
        self.key = aes_key_of(encoding_aes_key)
        self.receiveid = receiveid.encode()

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        expected = signature(self.token, timestamp, nonce, encrypted)
        # Constant time: the comparison tells an attacker nothing about how close they are.
        if not hmac.compare_digest(expected.encode(), msg_signature.lower().encode()):
            raise CallbackRejected(Rejection.SIGNATURE)

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def decrypt(self, encrypted: str) -> bytes:
        """The message inside a (verified) ciphertext; the receiveid must be ours."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CallbackRejected(Rejection.BASE64) from exc
        if not data or len(data) % 16:
            raise CallbackRejected(Rejection.DECRYPT, "length is not a multiple of 16")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or pad > len(plain) or plain[-pad:] != bytes([pad]) * pad:
            raise CallbackRejected(Rejection.DECRYPT, "bad padding")
        body = plain[16:-pad]
        if len(body) < 4:
            raise CallbackRejected(Rejection.DECRYPT, "too short")
        (length,) = struct.unpack(">I", body[:4])
        if length > len(body) - 4:
            raise CallbackRejected(Rejection.DECRYPT, "length beyond the message")
        message, receiveid = body[4 : 4 + length], body[4 + length :]
        if not hmac.compare_digest(receiveid, self.receiveid):
            raise CallbackRejected(Rejection.RECEIVEID)
        return message

    def encrypt(self, message: bytes, random_prefix: bytes | None = None) -> str:
        """A ciphertext as WeCom makes it (replies, tests, the benchmark)."""
        prefix = random_prefix if random_prefix is not None else secrets.token_bytes(16)
        plain = prefix + struct.pack(">I", len(message)) + message + self.receiveid
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def sign(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return signature(self.token, timestamp, nonce, encrypted)
