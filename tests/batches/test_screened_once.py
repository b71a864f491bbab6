"""Rows are screened once, as the upload is read; the workers take that result while the enabled
platforms are those it was made under, and screen again when they are not."""

from __future__ import annotations

from sqlalchemy import update

from app.batches import chunks
from app.platforms.models import Platform
from tests.support.batches import RIDERS, row, submit


async def outcomes(http, union, batch_id: str) -> list[tuple[str, list[str]]]:
    page = (await http.get(f"/v1/enrolment-batches/{batch_id}/rows", headers=union)).json()
    return [(r["outcome"], r["codes"]) for r in page["rows"]]


def rows() -> list[dict]:
    return [
        row("a", RIDERS[0], "rider-0"),
        row("b", RIDERS[1], "rider-1", phone="123"),
        row("c", RIDERS[2], "rider-2", platform_code="slow-delivery"),
    ]


async def test_the_workers_take_the_uploads_screening(http, union, run_jobs, monkeypatch):
    batch = (await submit(http, union, rows())).json()

    def screened_again(*args, **kwargs):
        raise AssertionError("a row was screened again")

    monkeypatch.setattr(chunks, "screen", screened_again)
    await run_jobs()
    assert await outcomes(http, union, batch["id"]) == [
        ("accepted", []),
        ("rejected", ["invalid_phone"]),
        ("rejected", ["platform_unavailable"]),  # slow-delivery never answers
    ]


async def test_a_platform_disabled_after_the_upload_has_its_rows_screened_again(
    http, union, run_jobs, db
):
    batch = (await submit(http, union, rows())).json()
    async with db.writer() as session:
        await session.execute(
            update(Platform).where(Platform.code == "slow-delivery").values(enabled=False)
        )
        await session.commit()
    await run_jobs()
    assert await outcomes(http, union, batch["id"]) == [
        ("accepted", []),
        ("rejected", ["invalid_phone"]),
        ("rejected", ["platform_unknown"]),
    ]
