from __future__ import annotations

import pytest

from app.core.crypto import DecryptionError, PersonalDataCipher

CIPHER = PersonalDataCipher(b"d" * 32, b"l" * 32)
ID = "11010519491231002X"


def test_round_trip_and_no_plaintext_in_the_ciphertext():
    blob = CIPHER.encrypt(ID, context="member.id_number")

    assert ID.encode() not in blob
    assert CIPHER.decrypt(blob, context="member.id_number") == ID


def test_each_encryption_is_different_but_the_lookup_hash_is_stable():
    assert CIPHER.encrypt(ID, context="c") != CIPHER.encrypt(ID, context="c")
    assert CIPHER.lookup_hash(ID, context="c") == CIPHER.lookup_hash(ID, context="c")
    assert CIPHER.lookup_hash(ID, context="c") != CIPHER.lookup_hash(ID, context="other")


def test_another_key_gives_another_hash_and_cannot_decrypt():
    other = PersonalDataCipher(b"e" * 32, b"m" * 32)
    blob = CIPHER.encrypt(ID, context="c")

    assert other.lookup_hash(ID, context="c") != CIPHER.lookup_hash(ID, context="c")
    with pytest.raises(DecryptionError):
        other.decrypt(blob, context="c")


def test_a_value_moved_to_another_column_or_altered_does_not_decrypt():
    blob = CIPHER.encrypt(ID, context="member.id_number")
    with pytest.raises(DecryptionError):
        CIPHER.decrypt(blob, context="member.phone")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(DecryptionError):
        CIPHER.decrypt(tampered, context="member.id_number")
