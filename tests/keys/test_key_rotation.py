"""Rotating DATA_KEY (online: retired keys decrypt, `keys reencrypt` moves every value) and
LOOKUP_KEY (offline: `keys rehash` recomputes every look-up hash)."""

from __future__ import annotations

import base64
import json
import os
import uuid
import zlib
from datetime import date, timedelta

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import ValidationError
from sqlalchemy import LargeBinary, func, select, update

import app.keys.reencrypt as reencrypt_module
from app.batches.models import BatchChunk, EnrolmentBatch
from app.batches.upload import chunk_context, read_chunk
from app.claims.filing import BENEFICIARY_ID_NUMBER, BENEFICIARY_NAME
from app.claims.models import Claim
from app.clients.service import create_client
from app.core import sealing
from app.core.clock import utc_now
from app.core.config import ConfigurationError, Settings
from app.core.crypto import DecryptionError, PersonalDataCipher, key_id
from app.core.models import Base
from app.core.policy import Role
from app.demo.cover import SEED_NAME, Seed, add_covered_members, synthetic_id_number
from app.keys.columns import ENCRYPTED, PLAIN_BINARY
from app.keys.reencrypt import reencrypt
from app.members.models import Member
from app.members.service import NAME, PHONE
from app.plans import DEFAULT_PLAN_CODE, in_force
from app.platforms.models import Platform
from app.platforms.schemas import PlatformIn
from app.platforms.service import add_platform, endpoint
from app.webhooks.models import WebhookEndpoint
from app.webhooks.service import SECRET_CONTEXT, signing_secrets
from tests.support.clients import run_cli
from tests.support.service import TEST_LOOKUP_KEY, TEST_PAYMENT_SECRET, bearer

OLD = b"o" * 32
NEW = b"d" * 32  # the test app's DATA_KEY: after rotation it runs with no retired key
LOOKUP = b"l" * 32  # the test app's LOOKUP_KEY
OLD_LOOKUP = b"k" * 32
ID = "11010519491231002X"
PLAN = in_force(DEFAULT_PLAN_CODE, date(2026, 1, 1))
SEEDED_MEMBERS = 3


def b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


def legacy(key: bytes, plaintext: bytes, context: str) -> bytes:
    """A version-1 value, as written before ciphertexts named their key."""
    nonce = os.urandom(12)
    return b"\x01" + nonce + AESGCM(key).encrypt(nonce, plaintext, context.encode())


BEFORE = PersonalDataCipher(OLD, LOOKUP)
AFTER = PersonalDataCipher(NEW, LOOKUP, [OLD])
NEW_ONLY = PersonalDataCipher(NEW, LOOKUP)


# The cipher


def test_values_written_before_the_rotation_stay_readable_after_it():
    named = BEFORE.encrypt(ID, context="c")
    unnamed = legacy(OLD, ID.encode(), "c")

    assert AFTER.decrypt(named, context="c") == ID
    assert AFTER.decrypt(unnamed, context="c") == ID
    assert AFTER.decrypt(legacy(NEW, ID.encode(), "c"), context="c") == ID
    assert BEFORE.decrypt(unnamed, context="c") == ID


def test_new_values_are_written_under_the_new_key_and_name_it():
    blob = AFTER.encrypt(ID, context="c")

    assert blob[:5] == b"\x02" + key_id(NEW) == AFTER.current_header
    assert AFTER.is_current(blob)
    assert not AFTER.is_current(BEFORE.encrypt(ID, context="c"))
    assert not AFTER.is_current(legacy(NEW, ID.encode(), "c"))
    with pytest.raises(DecryptionError):
        BEFORE.decrypt(blob, context="c")
    # Rolling back: the new key among the retired ones of a process still on the old key.
    assert PersonalDataCipher(OLD, LOOKUP, [NEW]).decrypt(blob, context="c") == ID


def test_a_value_under_a_key_no_longer_configured_fails_clearly():
    with pytest.raises(DecryptionError, match=rf"{key_id(OLD).hex()}.*DATA_KEYS_RETIRED"):
        NEW_ONLY.decrypt(BEFORE.encrypt(ID, context="c"), context="c")
    with pytest.raises(DecryptionError, match="DATA_KEYS_RETIRED"):
        NEW_ONLY.decrypt(legacy(OLD, ID.encode(), "c"), context="c")
    with pytest.raises(DecryptionError, match="unknown ciphertext format"):
        AFTER.decrypt(b"\x03" + os.urandom(40), context="c")


def test_the_key_is_chosen_by_its_id_and_context_still_binds():
    blob = BEFORE.encrypt(ID, context="member.id_number")
    # The id is the old key's; swap in the new key's id and the value no longer opens.
    renamed = b"\x02" + key_id(NEW) + blob[5:]

    with pytest.raises(DecryptionError):
        AFTER.decrypt(renamed, context="member.id_number")
    with pytest.raises(DecryptionError):
        AFTER.decrypt(blob, context="member.phone")
    assert AFTER.reencrypt_bytes(blob, context="member.id_number")[:5] == AFTER.current_header


def test_short_keys_are_refused_and_a_key_listed_twice_is_harmless():
    with pytest.raises(ValueError, match="32 bytes"):
        PersonalDataCipher(NEW, LOOKUP, [b"short"])
    twice = PersonalDataCipher(NEW, LOOKUP, [OLD, OLD, NEW])
    assert twice.decrypt(BEFORE.encrypt(ID, context="c"), context="c") == ID


# Settings


def test_retired_keys_are_read_comma_separated(monkeypatch):
    monkeypatch.setenv("DATA_KEYS_RETIRED", f"{b64(OLD)}, {b64(b'p' * 32)},")
    monkeypatch.setenv("DATA_KEY", b64(NEW))
    monkeypatch.setenv("LOOKUP_KEY", b64(LOOKUP))

    settings = Settings()
    cipher = PersonalDataCipher.from_settings(settings)

    assert settings.retired_data_key_bytes() == [OLD, b"p" * 32]
    assert cipher.decrypt(BEFORE.encrypt(ID, context="c"), context="c") == ID
    assert "o" * 10 not in repr(settings)


def test_a_bad_retired_key_is_refused_and_named():
    production = {
        "MUTUALAID_ENV": "production",
        "DATA_KEY": b64(NEW),
        "LOOKUP_KEY": b64(LOOKUP),
        "PAYMENT_NOTIFICATION_SECRETS": "s",
    }
    with pytest.raises(ValidationError, match=r"DATA_KEYS_RETIRED \(key 2\)"):
        Settings(**production, DATA_KEYS_RETIRED=f"{b64(OLD)},not-a-key")
    with pytest.raises(ConfigurationError, match="DATA_KEYS_RETIRED"):
        Settings(DATA_KEYS_RETIRED=b64(b"short")).retired_data_key_bytes()
    # Retired keys never stand in for the current one.
    with pytest.raises(ValidationError, match="DATA_KEY"):
        Settings(**(production | {"DATA_KEY": None}), DATA_KEYS_RETIRED=b64(OLD))
    assert Settings(**production, DATA_KEYS_RETIRED=b64(OLD)).retired_data_key_bytes() == [OLD]


def test_every_binary_column_is_known_to_rotation():
    binary = {
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, LargeBinary)
    }
    encrypted = {spec.label(name) for spec in ENCRYPTED for name in spec.contexts}
    assert binary == encrypted | PLAIN_BINARY
    assert not encrypted & PLAIN_BINARY


# The stored data


CHUNK_ITEMS = [{"n": 1, "row": {"ref": "r1", "id_number": ID}}]


async def seed(db, cipher: PersonalDataCipher) -> dict[str, uuid.UUID]:
    """One value of every kind the service encrypts, under `cipher` (one of them version 1)."""
    async with db.writer() as session:
        session.info[sealing.CIPHER] = cipher  # health facts sealed under it too
        issued = await create_client(session, role=Role.CITIZEN_APP, name="seed")
        client_id = issued.client.id
        await add_platform(
            session,
            cipher,
            PlatformIn(
                code="demo-delivery",
                name="demo",
                work_types=["food_delivery"],
                verify_url="http://platform.test/verify",
                credential="platform-token",
            ),
            None,
        )
        covered = await add_covered_members(
            session,
            cipher,
            Seed(PLAN, date(2026, 1, 1), client_id, "demo-delivery"),
            range(1, SEEDED_MEMBERS + 1),
        )
        first = covered[0].member_id
        await session.execute(
            update(Member)
            .where(Member.id == first)
            .values(name_cipher=legacy(OLD, "测试会员".encode(), NAME))
        )
        session.add(
            Claim(
                id=uuid.uuid4(),
                member_id=first,
                plan_code=PLAN.code,
                benefit="illness_death",
                event_kind="illness",
                event_occurred_on=date(2026, 3, 1),
                event_ref="e1",
                facts={},
                status="pending_review",
                filed_on=date(2026, 3, 2),
                filed_by_client_id=client_id,
                filer_role="citizen_app",
                beneficiary_name_cipher=cipher.encrypt("马大龙", context=BENEFICIARY_NAME),
                beneficiary_id_number_cipher=cipher.encrypt(ID, context=BENEFICIARY_ID_NUMBER),
            )
        )
        hook = WebhookEndpoint(
            id=uuid.uuid4(),
            platform_code="demo-delivery",
            url="https://hooks.example/a",
            secret_cipher=cipher.encrypt("whsec_new", context=SECRET_CONTEXT),
            previous_secret_cipher=cipher.encrypt("whsec_old", context=SECRET_CONTEXT),
            previous_secret_expires_at=utc_now() + timedelta(hours=1),
        )
        batch = EnrolmentBatch(
            id=uuid.uuid4(),
            union_org_code="SH-PUDONG",
            created_by_client_id=client_id,
            plan_code=PLAN.code,
            plan_version=PLAN.version,
            applied_on=date(2026, 3, 1),
            source="json",
            status="queued",
            total=1,
            chunk_count=1,
        )
        session.add_all([hook, batch])
        await session.flush()
        plain = zlib.compress(json.dumps(CHUNK_ITEMS).encode())
        session.add(
            BatchChunk(
                batch_id=batch.id,
                chunk_no=0,
                first_row=1,
                row_count=1,
                rows_cipher=cipher.encrypt_bytes(plain, context=chunk_context(str(batch.id), 0)),
            )
        )
        await session.commit()
    return {"member": first, "hook": hook.id, "batch": batch.id}


# members 3 x 3, enrolments 3 x 2, claim 3 (its facts too), platform 1, webhook 2, chunk 1
SEEDED_VALUES = 22


async def stored_values(db) -> list[tuple[str, str, bytes]]:
    """(column, context, ciphertext) of every encrypted value in the database."""
    found = []
    async with db.reader() as session:
        for spec in ENCRYPTED:
            for row in (await session.execute(select(spec.table))).all():
                values = dict(row._mapping)
                for name, context in spec.contexts.items():
                    if values[name] is not None:
                        found.append((spec.label(name), context(values), values[name]))
    return found


def rotated_env(**extra: str) -> dict[str, str]:
    return {
        "DATA_KEY": b64(NEW),
        "DATA_KEYS_RETIRED": b64(OLD),
        "LOOKUP_KEY": TEST_LOOKUP_KEY,
        "PAYMENT_NOTIFICATION_SECRETS": TEST_PAYMENT_SECRET,
    } | extra


async def test_reencrypt_moves_every_value_and_then_the_retired_key_can_go(db, runtime, settings):
    ids = await seed(db, BEFORE)
    before = await stored_values(db)
    assert len(before) == SEEDED_VALUES
    with pytest.raises(DecryptionError):  # the retired key is still needed
        NEW_ONLY.decrypt_bytes(before[0][2], context=before[0][1])

    check = run_cli(settings, "keys", "reencrypt", "--check", env=rotated_env())
    result = run_cli(settings, "keys", "reencrypt", "--batch-size", "2", env=rotated_env())
    again = run_cli(settings, "keys", "reencrypt", env=rotated_env())

    assert check.returncode == 1
    assert f"{SEEDED_VALUES} value(s) not under DATA_KEY" in check.stdout
    assert result.returncode == 0, result.stderr
    assert "members.name_cipher: 3 rewritten, 0 left" in result.stdout
    assert "enrolment_batch_chunks.rows_cipher: 1 rewritten, 0 left" in result.stdout
    assert f"rewritten {SEEDED_VALUES} value(s); 0 not under DATA_KEY" in result.stdout
    assert again.returncode == 0
    assert "rewritten 0 value(s)" in again.stdout
    after = await stored_values(db)
    assert len(after) == SEEDED_VALUES
    for _column, context, blob in after:
        assert NEW_ONLY.is_current(blob)
        NEW_ONLY.decrypt_bytes(blob, context=context)

    # The service itself runs with DATA_KEY=NEW and no retired key.
    cipher = runtime.cipher
    async with db.reader() as session:
        hook = await session.get(WebhookEndpoint, ids["hook"])
        platform = await session.get(Platform, "demo-delivery")
        chunk = await session.get(BatchChunk, (ids["batch"], 0))
        member = await session.get(Member, ids["member"])
    assert signing_secrets(hook, cipher, utc_now()) == [b"whsec_new", b"whsec_old"]
    assert endpoint(platform, cipher).credential == "platform-token"
    assert [
        item.to_json() for item in read_chunk(cipher, str(ids["batch"]), 0, chunk.rows_cipher)
    ] == [{**item, "same_person": None, "same_account": None} for item in CHUNK_ITEMS]
    assert cipher.decrypt(member.name_cipher, context=NAME) == "测试会员"
    assert cipher.decrypt(member.phone_cipher, context=PHONE).startswith("139")


async def test_reencrypt_without_the_old_key_changes_nothing_and_says_why(db, settings):
    await seed(db, BEFORE)

    result = run_cli(settings, "keys", "reencrypt", env=rotated_env(DATA_KEYS_RETIRED=""))

    assert result.returncode == 1
    assert "cannot decrypt members.id_number_cipher id=" in result.stderr
    assert "neither DATA_KEY nor one of DATA_KEYS_RETIRED" in result.stderr
    assert "keep DATA_KEYS_RETIRED" in result.stderr
    assert ID not in result.stdout + result.stderr
    assert not any(NEW_ONLY.is_current(blob) for _, _, blob in await stored_values(db))


class Interrupted(Exception):
    pass


class FailsAfter(PersonalDataCipher):
    """The rotated cipher, killed on its n-th value (an interrupted run)."""

    def __init__(self, n: int) -> None:
        super().__init__(NEW, LOOKUP, [OLD])
        self.left = n

    def reencrypt_bytes(self, blob: bytes, *, context: str) -> bytes:
        self.left -= 1
        if self.left < 0:
            raise Interrupted
        return super().reencrypt_bytes(blob, context=context)


async def test_an_interrupted_run_loses_nothing_and_the_next_one_finishes(db):
    await seed(db, BEFORE)

    with pytest.raises(Interrupted):
        await reencrypt(db, FailsAfter(7), batch_size=2)
    halfway = await stored_values(db)
    report = await reencrypt(db, AFTER, batch_size=2)

    done_first = sum(AFTER.is_current(blob) for _, _, blob in halfway)
    assert 0 < done_first < SEEDED_VALUES
    assert report.rewritten == SEEDED_VALUES - done_first
    assert report.left == 0
    for _, context, blob in halfway:  # each value opens, whichever run it is in
        AFTER.decrypt_bytes(blob, context=context)


@pytest.mark.only_backend("postgresql")
async def test_a_row_written_during_the_run_is_not_overwritten(db, monkeypatch):
    """A platform rotates its webhook secret (under the new key) between the run's read of the
    row and its write: the new secret stays, and the previous one is still moved."""
    ids = await seed(db, BEFORE)
    original = reencrypt_module._rewrite_row
    raced = []

    async def rotate_meanwhile(session, cipher, spec, row, tally):
        if spec.table.name == "webhook_endpoints" and not raced:
            async with db.engine.begin() as other:
                await other.execute(
                    update(WebhookEndpoint)
                    .where(WebhookEndpoint.id == ids["hook"])
                    .values(secret_cipher=AFTER.encrypt("whsec_newer", context=SECRET_CONTEXT))
                )
            raced.append(True)
        await original(session, cipher, spec, row, tally)

    monkeypatch.setattr(reencrypt_module, "_rewrite_row", rotate_meanwhile)
    report = await reencrypt(db, AFTER)

    assert raced
    assert report.left == 0
    assert report.column("webhook_endpoints.secret_cipher").rewritten == 0
    assert report.column("webhook_endpoints.previous_secret_cipher").rewritten == 1
    async with db.reader() as session:
        hook = await session.get(WebhookEndpoint, ids["hook"])
    assert signing_secrets(hook, NEW_ONLY, utc_now()) == [b"whsec_newer", b"whsec_old"]


# Look-up hashes


async def lookup(client, examiner: dict[str, str], id_number: str):
    return await client.post(
        "/v1/members/lookup", json={"id_number": id_number, "name": SEED_NAME}, headers=examiner
    )


async def test_rehash_moves_lookups_to_the_new_key(client, db, settings, api_key):
    """Members hashed under OLD_LOOKUP; the app runs with LOOKUP; the offline rehash joins
    them up, and running it again changes nothing."""
    await seed(db, PersonalDataCipher(NEW, OLD_LOOKUP))
    examiner = bearer(await api_key(Role.EXAMINER))
    id_number = synthetic_id_number(2)
    env = rotated_env(PREVIOUS_LOOKUP_KEY=b64(OLD_LOOKUP))

    missing = await lookup(client, examiner, id_number)
    result = run_cli(settings, "keys", "rehash", "--batch-size", "2", env=env)
    found = await lookup(client, examiner, id_number)
    again = run_cli(settings, "keys", "rehash", env=env)

    assert missing.status_code == 404
    assert result.returncode == 0, result.stderr
    assert f"members: {SEEDED_MEMBERS} rehashed, 0 already" in result.stdout
    assert found.status_code == 200, found.text
    assert found.json()["member"]["id_number_masked"] == id_number[:6] + "********" + id_number[-4:]
    assert again.returncode == 0
    assert f"members: 0 rehashed, {SEEDED_MEMBERS} already" in again.stdout
    async with db.reader() as session:
        members = (await session.scalars(select(Member))).all()
        distinct = await session.scalar(select(func.count(func.distinct(Member.id_number_hash))))
    assert distinct == SEEDED_MEMBERS
    for member in members:
        phone = NEW_ONLY.decrypt(member.phone_cipher, context=PHONE)
        assert member.phone_hash == NEW_ONLY.lookup_hash(phone, context=PHONE)


async def test_rehash_refuses_a_wrong_or_unchanged_previous_key(db, settings):
    await seed(db, PersonalDataCipher(NEW, OLD_LOOKUP))
    async with db.reader() as session:
        hashes_before = sorted((await session.scalars(select(Member.id_number_hash))).all())

    wrong = run_cli(settings, "keys", "rehash", env=rotated_env(PREVIOUS_LOOKUP_KEY=b64(b"w" * 32)))
    same = run_cli(settings, "keys", "rehash", env=rotated_env(PREVIOUS_LOOKUP_KEY=TEST_LOOKUP_KEY))
    garbled = run_cli(settings, "keys", "rehash", "--previous-lookup-key", "not base64!")
    absent = run_cli(settings, "keys", "rehash", env=rotated_env())

    assert wrong.returncode == 1
    assert "neither the previous nor the current LOOKUP_KEY" in wrong.stderr
    assert same.returncode == 1
    assert "is the current one" in same.stderr
    assert garbled.returncode == 2
    assert "PREVIOUS_LOOKUP_KEY is not valid base64" in garbled.stderr
    assert absent.returncode == 2
    async with db.reader() as session:
        hashes_after = sorted((await session.scalars(select(Member.id_number_hash))).all())
    assert hashes_after == hashes_before
