"""After claims of every benefit, the database holds no disease code, disability grade or date
of death in clear, as its dump shows it (PostgreSQL's `pg_dump`, SQLite's `iterdump`)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
import subprocess
from datetime import date

from sqlalchemy.engine import make_url

from tests.support.claims import claim, covered_members, filed, review, seed

D = date
# Chosen to appear nowhere else: no period, order or filing falls on these days.
ACCIDENT_DEATH, ILLNESS_DEATH = "2026-07-19", "2026-08-21"
FORBIDDEN = (
    b"malignant_tumour",
    b"aplastic_anaemia",
    b'"grade"',
    b'"injuries"',
    b'"died_on"',
    ACCIDENT_DEATH.encode(),
    ILLNESS_DEATH.encode(),
)


async def every_benefit(http, db, runtime, citizen, examiner) -> None:
    rider, killed, ill = await covered_members(db, runtime, await seed(db, runtime))(3)
    decided = [
        await filed(http, citizen, body)
        for body in (
            claim(
                rider, "hospital_allowance", "illness", D(2026, 3, 1), "flu",
                admitted_on=D(2026, 3, 1), discharged_on=D(2026, 3, 5),
            ),
            claim(
                rider, "critical_illness", "illness", D(2026, 4, 2), "tumour",
                diagnosed_on=D(2026, 4, 2), disease="malignant_tumour", severity="severe",
            ),
            claim(
                rider, "critical_illness_medical", "illness", D(2026, 4, 3), "anaemia",
                admitted_on=D(2026, 4, 3), discharged_on=D(2026, 4, 9),
                disease="aplastic_anaemia", eligible_cost_fen=800_000,
            ),
            claim(rider, "accident_condolence", "accident", D(2026, 5, 5), "fall"),
            claim(
                rider, "accidental_disability", "accident", D(2026, 5, 5), "fall",
                assessed_on=D(2026, 6, 6), injuries=[{"grade": 7}],
            ),
            claim(
                killed, "accidental_death", "accident", D(2026, 7, 7), "crash",
                died_on=D.fromisoformat(ACCIDENT_DEATH),
            ),
            claim(
                ill, "illness_death", "illness", D(2026, 8, 8), "stroke",
                died_on=D.fromisoformat(ILLNESS_DEATH),
            ),
        )
    ]  # fmt: skip
    for one in decided:
        if one["status"] == "pending_review":
            one.update(await review(http, examiner, one["id"], decision="approve"))
    assert [c["status"] for c in decided] == ["approved"] * 7, [c["decision"] for c in decided]


def dumped(url: str) -> bytes:
    """Everything the database holds, as its dump shows it: `pg_dump`, or SQLite's own."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        with contextlib.closing(sqlite3.connect(parsed.database)) as connection:
            return "\n".join(connection.iterdump()).encode()
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump is needed to check what PostgreSQL holds"
    plain = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run(
        [pg_dump, "--data-only", plain], capture_output=True, check=True, timeout=120
    ).stdout


async def test_no_health_fact_is_stored_in_clear(http, db, runtime, settings, citizen, examiner):
    await every_benefit(http, db, runtime, citizen, examiner)
    stored = await asyncio.to_thread(dumped, settings.database_url)

    assert b"claim_decisions" in stored  # a real dump, with the decisions in it
    assert [word for word in FORBIDDEN if word in stored] == []
