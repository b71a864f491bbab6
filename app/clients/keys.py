"""API key format and hashing.

Keys carry 256 bits of randomness, so a plain SHA-256 is the right storage form: no salt or slow
hash is needed against guessing, and the hash is a direct unique-index lookup on every request.
"""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "mak_"
_SHOWN_PREFIX_LENGTH = 12


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def shown_prefix(key: str) -> str:
    """The first characters, kept in clear so an operator can tell keys apart in listings."""
    return key[:_SHOWN_PREFIX_LENGTH]
