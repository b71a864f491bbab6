"""Personal data at rest: AES-256-GCM for values, HMAC-SHA256 for look-ups.

ID numbers, phone numbers and names are stored encrypted (PIPL art. 51, GB/T 35273). Finding a
member by ID number must not need decryption, so each such value also gets a keyed hash: the
same ID number always hashes the same under one `LOOKUP_KEY`, and without the key the hash says
nothing (an unkeyed hash of an 18-digit number with a known structure could be brute-forced).

Ciphertext layout: version byte, 12-byte random nonce, then the GCM ciphertext and tag. The
version byte leaves room for key rotation.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"\x01"
_NONCE_BYTES = 12


class DecryptionError(ValueError):
    """The ciphertext was not made with this key, or was altered."""


class PersonalDataCipher:
    def __init__(self, data_key: bytes, lookup_key: bytes) -> None:
        if len(data_key) < 32 or len(lookup_key) < 32:
            raise ValueError("keys must be at least 32 bytes")
        self._aead = AESGCM(data_key[:32])
        self._lookup_key = lookup_key

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        """`context` (e.g. "member.id_number") is bound to the ciphertext as associated data, so a
        value copied into another column does not decrypt there."""
        return self.encrypt_bytes(plaintext.encode(), context=context)

    def decrypt(self, blob: bytes, *, context: str) -> str:
        return self.decrypt_bytes(blob, context=context).decode()

    def encrypt_bytes(self, plaintext: bytes, *, context: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def decrypt_bytes(self, blob: bytes, *, context: str) -> bytes:
        if len(blob) < 1 + _NONCE_BYTES or blob[:1] != _VERSION:
            raise DecryptionError("unknown ciphertext format")
        nonce, body = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, context.encode())
        except Exception as exc:  # cryptography raises InvalidTag
            raise DecryptionError("cannot decrypt") from exc

    def lookup_hash(self, value: str, *, context: str) -> str:
        """Keyed hash for equality look-ups and uniqueness; 64 hex characters."""
        message = context.encode() + b"\x00" + value.encode()
        return hmac.new(self._lookup_key, message, hashlib.sha256).hexdigest()
