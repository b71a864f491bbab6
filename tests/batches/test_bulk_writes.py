"""A chunk's rows are written many at once (COPY on PostgreSQL): what is stored reads back as an
INSERT would have stored it, and a person already on record is the IntegrityError the chunk's
retry and the enrolment race handling expect."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.batches.models import BatchRow, EnrolmentBatch
from app.core.bulk import among, insert_rows
from app.members import service as members
from app.members.models import Member


def member_row(runtime, id_number: str, phone: str) -> dict:
    identity = members.seal(runtime.cipher, members.Identity(id_number, "王小明", phone))
    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    return {**identity.columns(), "sensitive_data_consent_at": now}


async def test_rows_read_back_as_written_and_a_repeated_person_is_an_integrity_error(
    app, db, runtime
):
    rows = [
        member_row(runtime, "310101199001011237", "13912345678"),
        member_row(runtime, "310101199001021233", "13912345679"),
    ]
    async with db.writer() as session:
        await insert_rows(session, Member, rows)
        await session.commit()
    async with db.reader() as session:
        dialect = (await session.connection()).dialect
        hashes = [r["id_number_hash"] for r in rows]
        stored = (
            await session.scalars(
                select(Member).where(among(Member.id_number_hash, hashes, dialect))
            )
        ).all()
    assert sorted(m.id_number_hash for m in stored) == sorted(hashes)
    for member in stored:
        assert isinstance(member.id, uuid.UUID)  # the Python-side defaults were filled
        assert member.created_at.tzinfo is not None
        assert member.sensitive_data_consent_at == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
        assert runtime.cipher.decrypt(member.name_cipher, context=members.NAME) == "王小明"

    async with db.writer() as session:
        with pytest.raises(IntegrityError):
            await insert_rows(session, Member, [rows[0] | {"id": uuid.uuid4()}])
        await session.rollback()


async def test_json_values_and_missing_rows(app, db, runtime):
    async with db.writer() as session:
        await insert_rows(session, BatchRow, [])  # nothing to write, nothing asked
        with pytest.raises(IntegrityError):  # no such batch
            await insert_rows(
                session,
                BatchRow,
                [
                    {
                        "batch_id": uuid.uuid4(),
                        "row_number": 1,
                        "ref": "a",
                        "outcome": "rejected",
                        "codes": ["missing_name", "invalid_phone"],
                        "duplicate_of_row": None,
                        "member_id": None,
                        "enrolment_id": None,
                    }
                ],
            )
        await session.rollback()
    async with db.reader() as session:
        assert (await session.scalars(select(EnrolmentBatch))).all() == []
