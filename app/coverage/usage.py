"""The usage counters: what each member's period, benefit and event has paid.

Read under the member's row lock, handed to the rules core as `Usage`, and changed in the same
transaction by conditional UPDATEs: the period row only if no other decision changed it since it
was read (`decisions` is the version) and only within the ceiling; each benefit and event row
only within its limit. A stale or excessive change matches no row and the whole transaction
fails, so no interleaving of requests, connections or processes can pay past a cap.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from sqlalchemy import and_, func, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import sealing
from app.core.errors import Conflict
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


async def load(
    session: AsyncSession,
    member_id: uuid.UUID,
    period_starts: dict[uuid.UUID, date],
    *,
    event_ref: str,
    hospital_days: bool,
) -> MemberUsage:
    """The member's usage as one claim needs it: every period's totals and benefits, the
    claim's own event, and the paid hospital days only for a hospital claim (no other rule
    reads another event or the days)."""
    periods = (
        await session.scalars(select(PeriodUsage).where(PeriodUsage.member_id == member_id))
    ).all()
    result = MemberUsage()
    if not periods:
        return result
    benefits = (
        await session.scalars(
            select(BenefitUsageRecord).where(BenefitUsageRecord.member_id == member_id)
        )
    ).all()
    events = (
        await session.scalars(
            select(EventUsageRecord).where(
                EventUsageRecord.member_id == member_id, EventUsageRecord.event_ref == event_ref
            )
        )
    ).all()
    days = (
        (
            await session.execute(
                select(PaidHospitalDay.coverage_period_id, PaidHospitalDay.day).where(
                    PaidHospitalDay.member_id == member_id
                )
            )
        ).all()
        if hospital_days
        else []
    )
    days_by_period: dict[uuid.UUID, set[date]] = defaultdict(set)
    for period_id, day in days:
        days_by_period[period_id].add(day)
    for row in periods:
        result.versions[row.coverage_period_id] = row.decisions
        result.by_start[period_starts[row.coverage_period_id]] = _usage(
            row,
            [b for b in benefits if b.coverage_period_id == row.coverage_period_id],
            [e for e in events if e.coverage_period_id == row.coverage_period_id],
            days_by_period[row.coverage_period_id],
        )
    return result


def _usage(
    row: PeriodUsage,
    benefits: Sequence[BenefitUsageRecord],
    events: Sequence[EventUsageRecord],
    days: set[date],
) -> Usage:
    by_event: dict[str, list[EventUsageRecord]] = defaultdict(list)
    for event in events:
        by_event[event.event_ref].append(event)
    return Usage(
        paid_fen=MappingProxyType({b.benefit: b.paid_fen for b in benefits}),
        payments=MappingProxyType({b.benefit: b.payments for b in benefits}),
        hospital_days=row.hospital_days,
        hospital_dates=frozenset(days),
        died_on=row.died_on,
        events={
            ref: EventUsage(
                paid_fen=MappingProxyType({r.benefit: r.paid_fen for r in rows}),
                disability_grade=min(
                    (r.disability_grade for r in rows if r.disability_grade is not None),
                    default=None,
                ),
            )
            for ref, rows in by_event.items()
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
    return _usage(row, benefits, [], set())


def _upsert(session: AsyncSession, model: type[Any]) -> Any:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


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


async def consume(session: AsyncSession, plan: Plan, paid: Consumption) -> None:
    """Add an approved decision's payment to the counters, or fail with `UsageConflict`.

    Each counter is one conditional upsert: a first payment inserts the row; a later one
    updates it only where the condition holds, and an update that does not hold returns no row.
    """
    await _consume_period(session, plan, paid)
    for benefit, amount in _changes(paid.delta).items():
        if amount < 0:
            await _deduct(session, paid, benefit, amount)
            continue
        await _consume_benefit(session, plan, paid, benefit, amount)
        await _consume_event(session, plan, paid, benefit, amount)
    if paid.delta.hospital_dates:
        # The primary key (member, day) refuses a day paid twice, whatever the race.
        session.add_all(
            PaidHospitalDay(
                member_id=paid.member_id,
                day=day,
                coverage_period_id=paid.period_id,
                claim_id=paid.claim_id,
            )
            for day in sorted(paid.delta.hospital_dates)
        )


async def _consume_period(session: AsyncSession, plan: Plan, paid: Consumption) -> None:
    """The period's totals: only if no other decision changed them since they were read, and
    only within the ceiling and the hospital days' cap."""
    delta = paid.delta
    max_days = plan.benefit(HOSPITAL_ALLOWANCE).int_param("max_days_per_period")
    period = _upsert(session, PeriodUsage).values(
        coverage_period_id=paid.period_id,
        member_id=paid.member_id,
        total_paid_fen=delta.paid_fen,
        hospital_days=delta.hospital_days,
        decisions=1,
        died_on_cipher=PeriodUsage.died_on.sealed(delta.died_on, sealing.cipher_of(session)),
    )
    await _expect_row(
        session,
        period.on_conflict_do_update(
            index_elements=[PeriodUsage.coverage_period_id],
            set_={
                "total_paid_fen": PeriodUsage.total_paid_fen + delta.paid_fen,
                "hospital_days": PeriodUsage.hospital_days + delta.hospital_days,
                "decisions": PeriodUsage.decisions + 1,
                "died_on_cipher": func.coalesce(
                    PeriodUsage.died_on_cipher, period.excluded.died_on_cipher
                ),
            },
            where=and_(
                PeriodUsage.decisions == paid.seen_version,
                PeriodUsage.total_paid_fen + delta.paid_fen <= plan.ceiling_fen.value,
                PeriodUsage.hospital_days + delta.hospital_days <= max_days,
            ),
        ).returning(PeriodUsage.decisions),
        "the period's usage changed, or the ceiling would be crossed",
    )


async def _consume_benefit(
    session: AsyncSession, plan: Plan, paid: Consumption, benefit: str, amount: int
) -> None:
    """One benefit's total for the period, within its limit per period."""
    payments = 1 if benefit == paid.delta.benefit and paid.delta.paid_fen > 0 else 0
    row = _upsert(session, BenefitUsageRecord).values(
        coverage_period_id=paid.period_id,
        benefit=benefit,
        member_id=paid.member_id,
        paid_fen=amount,
        payments=payments,
    )
    await _expect_row(
        session,
        row.on_conflict_do_update(
            index_elements=[BenefitUsageRecord.coverage_period_id, BenefitUsageRecord.benefit],
            set_={
                "paid_fen": BenefitUsageRecord.paid_fen + amount,
                "payments": BenefitUsageRecord.payments + payments,
            },
            where=and_(
                true(),
                *_within(BenefitUsageRecord.paid_fen, amount, plan, benefit, per_event=False),
            ),
        ).returning(BenefitUsageRecord.paid_fen),
        f"{benefit} would pass its limit for the period",
    )


async def _consume_event(
    session: AsyncSession, plan: Plan, paid: Consumption, benefit: str, amount: int
) -> None:
    """One benefit's total for the event, within its limit per accident; the best disability
    grade reached keeps the lowest number."""
    grade = await _best_grade(session, paid, benefit)
    event = _upsert(session, EventUsageRecord).values(
        coverage_period_id=paid.period_id,
        event_ref=paid.delta.event_ref,
        benefit=benefit,
        member_id=paid.member_id,
        paid_fen=amount,
        disability_grade_cipher=EventUsageRecord.disability_grade.sealed(
            grade, sealing.cipher_of(session)
        ),
    )
    await _expect_row(
        session,
        event.on_conflict_do_update(
            index_elements=[
                EventUsageRecord.coverage_period_id,
                EventUsageRecord.event_ref,
                EventUsageRecord.benefit,
            ],
            set_={
                "paid_fen": EventUsageRecord.paid_fen + amount,
                "disability_grade_cipher": func.coalesce(
                    event.excluded.disability_grade_cipher,
                    EventUsageRecord.disability_grade_cipher,
                ),
            },
            where=and_(
                true(),
                *_within(EventUsageRecord.paid_fen, amount, plan, benefit, per_event=True),
            ),
        ).returning(EventUsageRecord.paid_fen),
        f"{benefit} would pass its limit for the accident",
    )


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


def _within(
    column: Any, amount: int, plan: Plan, benefit: str, *, per_event: bool
) -> Iterable[Any]:
    """The limit condition for a counter that grows: per period, or per accident."""
    if amount <= 0 or (benefit in PER_ACCIDENT) != per_event:
        return ()
    return (column + amount <= benefit_limit_fen(plan, benefit),)


async def _expect_row(session: AsyncSession, statement: Any, problem: str) -> None:
    if (await session.execute(statement)).first() is None:
        raise UsageConflict(problem)
