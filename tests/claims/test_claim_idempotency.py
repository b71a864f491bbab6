"""A claim's Idempotency-Key, claimed on PostgreSQL in the statement that locks the member: a
retry replays, another claim under the key is refused, duplicates at once file one claim, and a
claim that fails leaves the key free."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

from sqlalchemy import func, select

from app.claims.models import Claim
from app.payouts.models import Payout
from tests.support.claims import claim, file


async def count(db, model) -> int:
    async with db.reader() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_a_retry_replays_the_claim_filed(http, covered, citizen, db):
    [rider] = await covered()
    body = claim(rider, "accident_condolence", "accident", date(2026, 3, 1), "k1")

    first = await file(http, citizen, body, key="claim-replay")
    again = await file(http, citizen, body, key="claim-replay")

    assert (first.status_code, first.json()["status"]) == (201, "approved")
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert (await count(db, Claim), await count(db, Payout)) == (1, 1)


async def test_another_claim_under_the_key_is_refused(http, covered, citizen, db):
    [rider] = await covered()
    first = await file(
        http,
        citizen,
        claim(rider, "accident_condolence", "accident", date(2026, 3, 1), "k1"),
        key="claim-reused",
    )
    other = await file(
        http,
        citizen,
        claim(rider, "accident_condolence", "accident", date(2026, 3, 2), "k2"),
        key="claim-reused",
    )

    assert first.status_code == 201
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert await count(db, Claim) == 1


async def test_duplicates_at_once_file_one_claim(http, covered, citizen, db):
    [rider] = await covered()
    body = claim(rider, "accident_condolence", "accident", date(2026, 3, 1), "k1")

    responses = await asyncio.gather(
        *(file(http, citizen, body, key="claim-burst") for _ in range(8))
    )

    assert {r.status_code for r in responses} <= {201, 409}, [r.text for r in responses]
    answered = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(answered) == 1
    assert (await count(db, Claim), await count(db, Payout)) == (1, 1)


async def test_a_claim_for_nobody_leaves_the_key_free(http, covered, citizen, db):
    [rider] = await covered()
    nobody = claim(uuid.uuid4(), "accident_condolence", "accident", date(2026, 3, 1), "k1")

    missing = await file(http, citizen, nobody, key="claim-nobody")
    assert (missing.status_code, missing.json()["code"]) == (404, "member_not_found")
    fixed = claim(rider, "accident_condolence", "accident", date(2026, 3, 1), "k1")
    again = await file(http, citizen, fixed, key="claim-nobody")
    assert (again.status_code, again.json()["status"]) == (201, "approved")
    assert "Idempotent-Replayed" not in again.headers
    assert await count(db, Claim) == 1
