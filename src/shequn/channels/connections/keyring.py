"""The keys that encrypt channel secrets at rest (AES-256-GCM), and the sealing itself.

Keys come from SHEQUN_SECRET_KEY (several, comma-separated: the first seals, every one
opens) or, when it is unset, from the key file (SHEQUN_SECRET_KEY_FILE), made on first use
and readable by its owner only. A sealed value names the key that sealed it, so a rotation
can re-seal row by row while old and new keys both open.

Each value is bound to its row (workspace and channel, as associated data): a sealed secret
copied into another workspace's row does not open there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shequn.settings import Settings

VERSION = "v1"
NONCE_BYTES = 12


class SecretKeyError(Exception):
    """A key is malformed, or no key opens a sealed value."""


def new_key() -> str:
    """A fresh key, as SHEQUN_SECRET_KEY and the key file hold it."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def _decode(text: str) -> bytes:
    text = text.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise SecretKeyError("a secret key is not base64url") from exc
    if len(raw) != 32:
        raise SecretKeyError(f"a secret key must be 32 bytes, this one is {len(raw)}")
    return raw


def key_id(raw: bytes) -> str:
    """A short public name of a key: which key sealed a value, without revealing it."""
    return hashlib.sha256(b"shequn-key-id|" + raw).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Keyring:
    keys: tuple[bytes, ...]
    """The first seals; each opens what it sealed."""

    @classmethod
    def parse(cls, text: str) -> Keyring:
        parts = [p for p in text.replace("\n", ",").split(",") if p.strip()]
        if not parts:
            raise SecretKeyError("no secret key given")
        return cls(tuple(_decode(p) for p in parts))

    @property
    def primary_id(self) -> str:
        return key_id(self.keys[0])

    def seal(self, plaintext: bytes, bound_to: str) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = AESGCM(self.keys[0]).encrypt(nonce, plaintext, bound_to.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{VERSION}:{self.primary_id}:{body}"

    def open(self, token: str, bound_to: str) -> bytes:
        version, _, rest = token.partition(":")
        kid, _, body = rest.partition(":")
        if version != VERSION or not body:
            raise SecretKeyError("not a sealed value")
        for raw in self.keys:
            if key_id(raw) != kid:
                continue
            data = base64.urlsafe_b64decode(body)
            try:
                return AESGCM(raw).decrypt(
                    data[:NONCE_BYTES], data[NONCE_BYTES:], bound_to.encode()
                )
            except InvalidTag as exc:
                raise SecretKeyError("a sealed value does not open with its key") from exc
        raise SecretKeyError(f"no configured secret key opens values sealed with key {kid}")

    def sealed_with_primary(self, token: str) -> bool:
        return token.split(":", 2)[1:2] == [self.primary_id]


def key_file(settings: Settings) -> Path:
    return Path(settings.secret_key_file)


def write_key_file(path: Path, keys: list[str]) -> None:
    """Replace the key file in one step, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".new")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write("\n".join(keys) + "\n")
    os.replace(partial, path)


def keyring(settings: Settings) -> Keyring:
    """The keys of this process: SHEQUN_SECRET_KEY, else the key file (made when missing)."""
    if settings.secret_key is not None:
        return Keyring.parse(settings.secret_key.get_secret_value())
    path = key_file(settings)
    if not path.exists():
        write_key_file(path, [new_key()])
    return Keyring.parse(path.read_text(encoding="ascii"))
