"""The usage counters: what each member's period, benefit and event has paid.

Read under the member's row lock, handed to the rules core as `Usage`, and changed in the same
transaction by upserts whose written values are checked: the period row only if no other
decision changed it since it was read (`decisions` is the version) and only within the ceiling;
each benefit and event row only within its limit. A stale or excessive change fails the whole
transaction, so no interleaving of requests, connections or processes can pay past a cap.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from sqlalchemy import Uuid, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import writes
from app.core.crypto import PersonalDataCipher
from app.core.errors import Conflict
from app.core.reads import Query
from app.coverage.models import (
    BenefitUsageRecord,
    EventUsageRecord,
    PaidHospitalDay,
    PeriodUsage,
)
from app.rules.decision import EventUsage, Usage, UsageDelta
from app.rules.limits import PER_ACCIDENT, benefit_limit_fen
from app.rules.plan import Plan
from app.rules.vocabulary import ACCIDENT_CONDOLENCE, ACCIDENTAL_DISABILITY, HOSPITAL_ALLOWANCE


class UsageConflict(Conflict):
    """A counter changed under a decision, or a cap would be crossed: nothing was stored."""

    code = "usage_conflict"
    title = "The member's usage changed while the claim was decided; retry"


@dataclass
class MemberUsage:
    """Usage of every period of one member, keyed by period start, with each row's version."""

    by_start: dict[date, Usage] = field(default_factory=dict)
    versions: dict[uuid.UUID, int] = field(default_factory=dict)


# (A key column's type is known only once the table it refers to is, hence the type given.)
_MEMBER_ID = bindparam("member_id", type_=Uuid())
_USAGE_READS: tuple[Query, ...] = (
    select(
        PeriodUsage.coverage_period_id,
        PeriodUsage.hospital_days,
        PeriodUsage.decisions,
        PeriodUsage.died_on_cipher,
    ).where(PeriodUsage.member_id == _MEMBER_ID),
    select(
        BenefitUsageRecord.coverage_period_id,
        BenefitUsageRecord.benefit,
        BenefitUsageRecord.paid_fen,
        BenefitUsageRecord.payments,
    ).where(BenefitUsageRecord.member_id == _MEMBER_ID),
    select(
        EventUsageRecord.coverage_period_id,
        EventUsageRecord.benefit,
        EventUsageRecord.paid_fen,
        EventUsageRecord.disability_grade_cipher,
    ).where(
        EventUsageRecord.member_id == _MEMBER_ID,
        EventUsageRecord.event_ref == bindparam("event_ref"),
    ),
)
_DAYS_READ = select(PaidHospitalDay.coverage_period_id, PaidHospitalDay.day).where(
    PaidHospitalDay.member_id == _MEMBER_ID
)


def reads(*, hospital_days: bool) -> tuple[Query, ...]:
    """What a claim's decision reads of the member's usage (bind parameters `member_id` and
    `event_ref`): every period's totals and benefits, the claim's own event, and the paid
    hospital days only for a hospital claim (no other rule reads another event or the days).
    The caller sends them with its other reads, in one round trip (`app.core.reads`), and hands
    their rows to `built`."""
    return (*_USAGE_READS, _DAYS_READ) if hospital_days else _USAGE_READS


def built(
    answers: Sequence[Sequence[Any]],
    period_starts: Mapping[uuid.UUID, date],
    event_ref: str,
    cipher: PersonalDataCipher,
) -> MemberUsage:
    """`MemberUsage` from the rows of `reads`, in its order."""
    periods, benefits, events, *more = answers
    days_by_period: dict[uuid.UUID, set[date]] = defaultdict(set)
    for period_id, day in more[0] if more else ():
        days_by_period[period_id].add(day)
    grade = EventUsageRecord.disability_grade
    result = MemberUsage()
    for period_id, hospital_days, decisions, died_on_cipher in periods:
        result.versions[period_id] = decisions
        result.by_start[period_starts[period_id]] = _usage(
            hospital_days,
            PeriodUsage.died_on.opened(died_on_cipher, cipher),
            [(b, paid, payments) for p, b, paid, payments in benefits if p == period_id],
            {
                event_ref: [
                    (b, paid, grade.opened(sealed, cipher))
                    for p, b, paid, sealed in events
                    if p == period_id
                ]
            },
            days_by_period[period_id],
        )
    return result


# (benefit, paid_fen, payments) of a period; (benefit, paid_fen, disability grade) by event.
_Benefits = Iterable[tuple[str, int, int]]
_Events = Mapping[str, list[tuple[str, int, int | None]]]


def _usage(
    hospital_days: int,
    died_on: date | None,
    benefits: _Benefits,
    events: _Events,
    days: set[date],
) -> Usage:
    benefits = list(benefits)
    return Usage(
        paid_fen=MappingProxyType({benefit: paid for benefit, paid, _ in benefits}),
        payments=MappingProxyType({benefit: payments for benefit, _, payments in benefits}),
        hospital_days=hospital_days,
        hospital_dates=frozenset(days),
        died_on=died_on,
        events={
            ref: EventUsage(
                paid_fen=MappingProxyType({benefit: paid for benefit, paid, _ in rows}),
                disability_grade=min(
                    (grade for _, _, grade in rows if grade is not None), default=None
                ),
            )
            for ref, rows in events.items()
            if rows
        },
    )


async def usage_of_period(session: AsyncSession, period_id: uuid.UUID) -> Usage:
    """One period's usage, for coverage views (no lock: a view may be a moment old)."""
    row = await session.get(PeriodUsage, period_id)
    if row is None:
        return Usage()
    benefits = (
        await session.scalars(
            select(BenefitUsageRecord).where(BenefitUsageRecord.coverage_period_id == period_id)
        )
    ).all()
    return _usage(
        row.hospital_days,
        row.died_on,
        [(b.benefit, b.paid_fen, b.payments) for b in benefits],
        {},
        set(),
    )


def _changes(delta: UsageDelta) -> dict[str, int]:
    """How much each benefit's counter moves; a deducted condolence moves to the new benefit."""
    changes = {delta.benefit: delta.paid_fen + delta.absorbed_condolence_fen}
    if delta.absorbed_condolence_fen:
        changes[ACCIDENT_CONDOLENCE] = changes.get(ACCIDENT_CONDOLENCE, 0) - (
            delta.absorbed_condolence_fen
        )
    return changes


@dataclass(frozen=True)
class Consumption:
    """An approved decision's payment, and the counters it goes into."""

    member_id: uuid.UUID
    period_id: uuid.UUID
    # The period row's version as read before deciding: a row changed since fails.
    seen_version: int
    claim_id: uuid.UUID
    delta: UsageDelta


# How each counter row is written: inserted by a first payment, added to by a later one.
_PERIOD = writes.Counter(
    conflict=("coverage_period_id",),
    add=("total_paid_fen", "hospital_days", "decisions"),
    keep=("died_on_cipher",),
    returning=("decisions", "total_paid_fen", "hospital_days"),
)
_BENEFIT = writes.Counter(
    conflict=("coverage_period_id", "benefit"),
    add=("paid_fen", "payments"),
    returning=("paid_fen",),
)
_EVENT = writes.Counter(
    conflict=("coverage_period_id", "event_ref", "benefit"),
    add=("paid_fen",),
    replace=("disability_grade_cipher",),
    returning=("paid_fen",),
)


async def consume(session: AsyncSession, plan: Plan, paid: Consumption) -> None:
    """Add an approved decision's payment to the counters; the transaction fails with
    `UsageConflict` if that passes a cap or the period's usage changed since it was read.

    Each counter is one upsert queued with the decision's other rows (`app.core.writes`): a
    first payment inserts the row, a later one adds to it, and the values it leaves are checked
    as written (the stored values plus this payment, whatever committed meanwhile). A check
    that fails refuses the whole transaction: nothing of the decision is stored.
    """
    _consume_period(session, plan, paid)
    for benefit, amount in _changes(paid.delta).items():
        if amount < 0:
            await _deduct(session, paid, benefit, amount)
            continue
        _consume_benefit(session, plan, paid, benefit, amount)
        grade = await _best_grade(session, paid, benefit)
        _consume_event(session, plan, paid, benefit, amount, grade)
    if paid.delta.hospital_dates:
        # The primary key (member, day) refuses a day paid twice, whatever the race.
        writes.pending(session).add(
            session,
            *(
                PaidHospitalDay(
                    member_id=paid.member_id,
                    day=day,
                    coverage_period_id=paid.period_id,
                    claim_id=paid.claim_id,
                )
                for day in sorted(paid.delta.hospital_dates)
            ),
        )


def _consume_period(session: AsyncSession, plan: Plan, paid: Consumption) -> None:
    """The period's totals: only if no other decision changed them since they were read, and
    only within the ceiling and the hospital days' cap."""
    delta = paid.delta
    max_days = plan.benefit(HOSPITAL_ALLOWANCE).int_param("max_days_per_period")
    row = PeriodUsage(
        coverage_period_id=paid.period_id,
        member_id=paid.member_id,
        total_paid_fen=delta.paid_fen,
        hospital_days=delta.hospital_days,
        decisions=1,
    )
    row.died_on = delta.died_on

    def check(written: Sequence[Any]) -> Exception | None:
        decisions, total_paid_fen, hospital_days = written
        if (
            decisions == paid.seen_version + 1
            and total_paid_fen <= plan.ceiling_fen.value
            and hospital_days <= max_days
        ):
            return None
        return UsageConflict("the period's usage changed, or the ceiling would be crossed")

    writes.pending(session).upsert(session, row, _PERIOD, check)


def _consume_benefit(
    session: AsyncSession, plan: Plan, paid: Consumption, benefit: str, amount: int
) -> None:
    """One benefit's total for the period, within its limit per period."""
    payments = 1 if benefit == paid.delta.benefit and paid.delta.paid_fen > 0 else 0
    row = BenefitUsageRecord(
        coverage_period_id=paid.period_id,
        benefit=benefit,
        member_id=paid.member_id,
        paid_fen=amount,
        payments=payments,
    )
    limit = _limit(amount, plan, benefit, per_event=False)
    problem = f"{benefit} would pass its limit for the period"
    writes.pending(session).upsert(session, row, _BENEFIT, _within(limit, problem))


def _consume_event(
    session: AsyncSession,
    plan: Plan,
    paid: Consumption,
    benefit: str,
    amount: int,
    grade: int | None,
) -> None:
    """One benefit's total for the event, within its limit per accident; the best disability
    grade reached keeps the lowest number."""
    row = EventUsageRecord(
        coverage_period_id=paid.period_id,
        event_ref=paid.delta.event_ref,
        benefit=benefit,
        member_id=paid.member_id,
        paid_fen=amount,
    )
    row.disability_grade = grade
    limit = _limit(amount, plan, benefit, per_event=True)
    problem = f"{benefit} would pass its limit for the accident"
    writes.pending(session).upsert(session, row, _EVENT, _within(limit, problem))


async def _best_grade(session: AsyncSession, paid: Consumption, benefit: str) -> int | None:
    """The best disability grade the event has reached with this one (the lowest number), or
    None when this decision brings none. Grades are sealed, so the comparison is made here; the
    member's row lock (`app.claims.context`) keeps it from racing another decision."""
    if benefit != ACCIDENTAL_DISABILITY or paid.delta.disability_grade is None:
        return None
    stored = await session.get(
        EventUsageRecord, (paid.period_id, paid.delta.event_ref, benefit), populate_existing=True
    )
    earlier = stored.disability_grade if stored is not None else None
    return min(g for g in (earlier, paid.delta.disability_grade) if g is not None)


async def _deduct(session: AsyncSession, paid: Consumption, benefit: str, amount: int) -> None:
    """A counter that moves down (a condolence a disability or death payment absorbs): its rows
    exist, since what is deducted was paid. An upsert cannot do it: the row it would insert,
    with a negative amount, fails its check before the conflict is seen."""
    for model, keys in (
        (BenefitUsageRecord, {"benefit": benefit}),
        (EventUsageRecord, {"benefit": benefit, "event_ref": paid.delta.event_ref}),
    ):
        await _expect_row(
            session,
            update(model)
            .where(
                model.coverage_period_id == paid.period_id,
                *(getattr(model, name) == value for name, value in keys.items()),
                model.paid_fen + amount >= 0,
            )
            .values(paid_fen=model.paid_fen + amount)
            .returning(model.paid_fen),
            f"{benefit} has less paid than this payment deducts",
        )


def _limit(amount: int, plan: Plan, benefit: str, *, per_event: bool) -> int | None:
    """The limit a growing counter must stay within: per period, or per accident; None when
    this counter has none (or does not grow)."""
    if amount <= 0 or (benefit in PER_ACCIDENT) != per_event:
        return None
    return benefit_limit_fen(plan, benefit)


def _within(limit: int | None, problem: str) -> Callable[[Sequence[Any]], Exception | None]:
    def check(written: Sequence[Any]) -> Exception | None:
        (paid_fen,) = written
        if limit is None or paid_fen <= limit:
            return None
        return UsageConflict(problem)

    return check


async def _expect_row(session: AsyncSession, statement: Any, problem: str) -> None:
    if (await session.execute(statement)).first() is None:
        raise UsageConflict(problem)
