"""Posting to the ledger, and reading balances from it.

`post` is called by the code that moves money, inside its transaction: the entry exists exactly
when the change does. Balances are sums of lines; nothing is stored twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ledger.models import LedgerEntry, LedgerLine
from app.ledger.postings import Account, Movement, lines_of


@dataclass(frozen=True, slots=True)
class Source:
    """What caused a movement: `kind` names the record (`payment_order`, `refund`, `payout`)."""

    kind: str
    id: uuid.UUID
    member_id: uuid.UUID | None = None


def post(session: AsyncSession, movement: Movement, amount_fen: int, source: Source) -> None:
    """Add one balanced entry for `movement` of `amount_fen`, caused by `source`."""
    entry = LedgerEntry(
        id=uuid.uuid4(),
        movement=movement.value,
        source_kind=source.kind,
        source_id=source.id,
        member_id=source.member_id,
    )
    session.add(entry)
    for line in lines_of(movement, amount_fen):
        session.add(
            LedgerLine(
                id=uuid.uuid4(),
                entry_id=entry.id,
                account=line.account.value,
                amount_fen=line.amount_fen,
            )
        )


@dataclass(frozen=True, slots=True)
class AccountFigures:
    account: Account
    opening_fen: int
    debits_fen: int
    credits_fen: int  # a positive number: the sum of the credit lines' amounts
    closing_fen: int


async def account_figures(
    session: AsyncSession, begin: datetime, end: datetime
) -> list[AccountFigures]:
    """Each account's balance before `begin`, its debits and credits in [begin, end), and its
    balance at `end`."""
    line = LedgerLine
    earlier = line.created_at < begin
    within = (line.created_at >= begin) & (line.created_at < end)
    rows = (
        await session.execute(
            select(
                line.account,
                func.sum(case((earlier, line.amount_fen), else_=0)),
                func.sum(case((within & (line.amount_fen > 0), line.amount_fen), else_=0)),
                func.sum(case((within & (line.amount_fen < 0), -line.amount_fen), else_=0)),
            )
            .where(line.created_at < end)
            .group_by(line.account)
        )
    ).all()
    sums = {account: (int(o or 0), int(d or 0), int(c or 0)) for account, o, d, c in rows}
    figures = []
    for account in Account:
        opening, debit, credit = sums.get(account.value, (0, 0, 0))
        figures.append(AccountFigures(account, opening, debit, credit, opening + debit - credit))
    return figures


async def movements(session: AsyncSession, begin: datetime, end: datetime) -> dict[Movement, int]:
    """The total amount of each kind of movement posted in [begin, end)."""
    rows = (
        await session.execute(
            select(LedgerEntry.movement, func.sum(LedgerLine.amount_fen))
            .join(LedgerLine, LedgerLine.entry_id == LedgerEntry.id)
            .where(LedgerEntry.created_at >= begin, LedgerEntry.created_at < end)
            .where(LedgerLine.amount_fen > 0)
            .group_by(LedgerEntry.movement)
        )
    ).all()
    return {Movement(movement): int(total) for movement, total in rows}


async def unbalanced_entries(session: AsyncSession) -> int:
    """How many entries do not sum to zero (always 0: the check an auditor would run)."""
    sums = (
        select(LedgerLine.entry_id)
        .group_by(LedgerLine.entry_id)
        .having(func.sum(LedgerLine.amount_fen) != 0)
        .subquery()
    )
    return int(await session.scalar(select(func.count()).select_from(sums)) or 0)
