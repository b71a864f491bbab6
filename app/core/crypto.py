"""Personal data at rest: AES-256-GCM for values, HMAC-SHA256 for look-ups.

ID numbers, phone numbers and names are stored encrypted (PIPL art. 51, GB/T 35273). Finding a
member by ID number must not need decryption, so each such value also gets a keyed hash: the
same ID number always hashes the same under one `LOOKUP_KEY`, and without the key the hash says
nothing (an unkeyed hash of an 18-digit number with a known structure could be brute-forced).

Ciphertext layouts, told apart by the first byte:
- version 2 (written now): 0x02, a 4-byte key id, a 12-byte random nonce, the GCM ciphertext
  and tag. The key id names the data key (`key_id`), so decryption picks the right key among
  `DATA_KEY` and `DATA_KEYS_RETIRED` directly, and `mutualaid keys reencrypt` can tell which
  values are not yet under the current key.
- version 1 (written before keys could rotate): 0x01, nonce, ciphertext and tag. It names no
  key, so it is tried under the current key, then under each retired key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence
from copy import copy
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

if TYPE_CHECKING:
    from app.core.config import Settings

_V1 = b"\x01"
_V2 = b"\x02"
_KEY_ID_BYTES = 4
_NONCE_BYTES = 12
_TAG_BYTES = 16
_KEY_ID_LABEL = b"mutualaid data key id"


class DecryptionError(ValueError):
    """The ciphertext was not made with a configured key, or was altered."""


def key_id(data_key: bytes) -> bytes:
    """Four bytes naming a data key in its ciphertexts: an HMAC-SHA256 of a fixed label under
    the key, so the id tells nothing about the key. Like encryption, it uses the first 32 bytes."""
    return hmac.new(data_key[:32], _KEY_ID_LABEL, hashlib.sha256).digest()[:_KEY_ID_BYTES]


class PersonalDataCipher:
    def __init__(
        self, data_key: bytes, lookup_key: bytes, retired_data_keys: Sequence[bytes] = ()
    ) -> None:
        """`retired_data_keys` only decrypt: values written under them stay readable until
        `mutualaid keys reencrypt` has moved them to `data_key`."""
        if any(len(key) < 32 for key in (data_key, lookup_key, *retired_data_keys)):
            raise ValueError("keys must be at least 32 bytes")
        self._lookup_key = lookup_key
        self._key_id = key_id(data_key)
        self._header = _V2 + self._key_id
        distinct: list[bytes] = []
        for key in (data_key, *retired_data_keys):  # the current key first
            if key[:32] not in distinct:
                distinct.append(key[:32])
        self._by_id: dict[bytes, AESGCM] = {}
        for key in distinct:
            if key_id(key) in self._by_id:
                raise ValueError("two data keys share a key id: generate another key")
            self._by_id[key_id(key)] = AESGCM(key)

    @classmethod
    def from_settings(cls, settings: Settings) -> PersonalDataCipher:
        return cls(
            settings.data_key_bytes(),
            settings.lookup_key_bytes(),
            settings.retired_data_key_bytes(),
        )

    @property
    def current_header(self) -> bytes:
        """The first bytes of every value written now: version and key id."""
        return self._header

    def is_current(self, blob: bytes) -> bool:
        """Whether the value is already under the current data key."""
        return blob[: len(self._header)] == self._header

    def with_lookup_key(self, lookup_key: bytes) -> PersonalDataCipher:
        """The same data keys with another look-up key, to recognise hashes made under a
        previous `LOOKUP_KEY`."""
        if len(lookup_key) < 32:
            raise ValueError("keys must be at least 32 bytes")
        other = copy(self)
        other._lookup_key = lookup_key
        return other

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        """`context` (e.g. "member.id_number") is bound to the ciphertext as associated data, so a
        value copied into another column does not decrypt there."""
        return self.encrypt_bytes(plaintext.encode(), context=context)

    def decrypt(self, blob: bytes, *, context: str) -> str:
        return self.decrypt_bytes(blob, context=context).decode()

    def encrypt_bytes(self, plaintext: bytes, *, context: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._by_id[self._key_id].encrypt(nonce, plaintext, context.encode())
        return self._header + nonce + sealed

    def decrypt_bytes(self, blob: bytes, *, context: str) -> bytes:
        version = blob[:1]
        if version == _V2 and len(blob) >= 1 + _KEY_ID_BYTES + _NONCE_BYTES + _TAG_BYTES:
            kid = blob[1 : 1 + _KEY_ID_BYTES]
            aead = self._by_id.get(kid)
            if aead is None:
                raise DecryptionError(
                    f"made under data key {kid.hex()}, which is neither DATA_KEY nor one of "
                    "DATA_KEYS_RETIRED"
                )
            return _open(aead, blob[1 + _KEY_ID_BYTES :], context)
        if version == _V1 and len(blob) >= 1 + _NONCE_BYTES + _TAG_BYTES:
            for aead in self._by_id.values():
                try:
                    return _open(aead, blob[1:], context)
                except DecryptionError:
                    continue
            raise DecryptionError("cannot decrypt under DATA_KEY or any of DATA_KEYS_RETIRED")
        raise DecryptionError("unknown ciphertext format")

    def reencrypt_bytes(self, blob: bytes, *, context: str) -> bytes:
        """The same plaintext under the current key, with a fresh nonce."""
        return self.encrypt_bytes(self.decrypt_bytes(blob, context=context), context=context)

    def lookup_hash(self, value: str, *, context: str) -> str:
        """Keyed hash for equality look-ups and uniqueness; 64 hex characters."""
        message = context.encode() + b"\x00" + value.encode()
        return hmac.digest(self._lookup_key, message, "sha256").hex()  # one call into OpenSSL


def _open(aead: AESGCM, nonce_and_body: bytes, context: str) -> bytes:
    nonce, body = nonce_and_body[:_NONCE_BYTES], nonce_and_body[_NONCE_BYTES:]
    try:
        return aead.decrypt(nonce, body, context.encode())
    except Exception as exc:  # cryptography raises InvalidTag
        raise DecryptionError("cannot decrypt") from exc
