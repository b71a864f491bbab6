"""Coverage of a platform's workers, read in one statement.

This is the hottest read path of the service (platforms ask before dispatching orders), so it is
one SELECT over the `(platform_code, platform_worker_id)` unique index joined to the member's
periods that have not ended, and the rules core picks the period to show. Ownership is part of
the query: another platform's worker is simply not found, and answers like an unknown id.

On PostgreSQL the statement runs straight on asyncpg (`app.core.direct_reads`), and the bulk
form takes its ids as one array parameter (`= ANY($3)`): one statement, prepared once, however
many ids are asked. SQLite runs the same SELECT through SQLAlchemy, the bulk form with `IN`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY

from app import plans
from app.core.crypto import PersonalDataCipher
from app.core.db import Database
from app.core.direct_reads import DirectStatement
from app.coverage.models import CoveragePeriodRecord
from app.members.models import Member, PlatformWorker
from app.partners.schemas import WorkerCoverage
from app.rules.coverage import CoveragePeriod, MemberCover, in_force_or_next


def _query(*, many: bool, array: bool = False) -> Select[str, bytes | None, str, str, date, date]:
    worker_id = PlatformWorker.platform_worker_id
    if not many:
        which = worker_id == bindparam("worker_id")
    elif array:
        which = worker_id == any_(bindparam("worker_ids", type_=ARRAY(String)))
    else:
        which = worker_id.in_(bindparam("worker_ids", expanding=True))
    return (
        select(
            PlatformWorker.platform_worker_id,
            Member.died_on_cipher,
            CoveragePeriodRecord.plan_code,
            CoveragePeriodRecord.plan_version,
            CoveragePeriodRecord.starts_on,
            CoveragePeriodRecord.ends_on,
        )
        .join(Member, Member.id == PlatformWorker.member_id)
        .outerjoin(
            CoveragePeriodRecord,
            (CoveragePeriodRecord.member_id == PlatformWorker.member_id)
            & (CoveragePeriodRecord.ends_on >= bindparam("today")),
        )
        .where(PlatformWorker.platform_code == bindparam("platform_code"), which)
    )


# Built once: building the statement costs more than running it on this path.
_ONE = _query(many=False)
_MANY = _query(many=True)
_DIRECT_ONE = DirectStatement.of(_ONE)
_DIRECT_MANY = DirectStatement.of(_query(many=True, array=True))


def _uncovered(worker_id: str) -> WorkerCoverage:
    return WorkerCoverage(
        platform_worker_id=worker_id, covered=False, plan_code=None, starts_on=None, ends_on=None
    )


async def workers_coverage(
    db: Database,
    cipher: PersonalDataCipher,
    platform_code: str | None,
    worker_ids: Sequence[str],
    today: date,
) -> list[WorkerCoverage]:
    """One answer per requested id, in the order asked."""
    wanted = set(worker_ids)
    if platform_code is None or not wanted:
        return [_uncovered(worker_id) for worker_id in worker_ids]
    rows = await _rows(db, platform_code, wanted, today)
    died: dict[str, date | None] = {}
    periods: dict[str, dict[CoveragePeriod, tuple[str, str]]] = defaultdict(dict)
    for worker_id, died_on_cipher, plan_code, plan_version, starts_on, ends_on in rows:
        if worker_id not in died:  # sealed; only a member whose death is recorded has one
            died[worker_id] = Member.died_on.opened(died_on_cipher, cipher)
        if plan_code is not None:
            periods[worker_id][CoveragePeriod(starts_on, ends_on)] = (plan_code, plan_version)
    answers = {
        worker_id: _answer(worker_id, died[worker_id], periods[worker_id], today)
        for worker_id in died
    }
    return [answers.get(worker_id) or _uncovered(worker_id) for worker_id in worker_ids]


async def _rows(db: Database, platform_code: str, wanted: set[str], today: date) -> Sequence[Any]:
    """The statement's rows: a worker once per period not yet ended (or once with nulls), as
    asyncpg records or SQLAlchemy rows, which unpack alike."""
    params: dict[str, object] = {"platform_code": platform_code, "today": today}
    if len(wanted) == 1:
        [params["worker_id"]] = wanted
        statement, direct = _ONE, _DIRECT_ONE
    else:
        params["worker_ids"] = list(wanted)
        statement, direct = _MANY, _DIRECT_MANY
    if db.direct is not None:
        return await db.direct.fetch(direct, params)
    async with db.read_engine.connect() as connection:
        return (await connection.execute(statement, params)).all()


def _answer(
    worker_id: str,
    died_on: date | None,
    versions: dict[CoveragePeriod, tuple[str, str]],
    today: date,
) -> WorkerCoverage:
    if not versions:
        return _uncovered(worker_id)
    death_ends_cover = all(
        plans.of_record(code, version).claims.death_ends_cover.value
        for code, version in set(versions.values())
    )
    period = in_force_or_next(
        MemberCover(tuple(versions), died_on), today, death_ends_cover=death_ends_cover
    )
    if period is None:
        return _uncovered(worker_id)
    return WorkerCoverage(
        platform_worker_id=worker_id,
        covered=period.covers(today),
        plan_code=versions[period][0],
        starts_on=period.starts_on,
        ends_on=period.ends_on,
    )
