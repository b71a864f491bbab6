"""The fund report: every figure is a sum of ledger lines, nothing is counted twice."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.ledger.postings import Account, Movement
from app.ledger.service import account_figures, movements
from app.reports.range import checked_range, moments
from app.reports.schemas import AccountMovement, FundFigures, FundReport


async def fund_report(session: AsyncSession, first: date, last: date) -> FundReport:
    checked_range(first, last)
    begin, end = moments(first, last)
    figures = await account_figures(session, begin, end)
    moved = await movements(session, begin, end)
    closing = {f.account: f.closing_fen for f in figures}
    return FundReport(
        from_date=first,
        to_date=last,
        fund=FundFigures(
            premiums_received_fen=moved.get(Movement.PREMIUM_RECEIVED, 0)
            + moved.get(Movement.PAYMENT_NOT_OWED, 0),
            refunds_paid_fen=moved.get(Movement.REFUND_PAID, 0),
            benefits_approved_fen=moved.get(Movement.BENEFIT_APPROVED, 0),
            benefits_paid_fen=moved.get(Movement.TRANSFER_PAID, 0)
            - moved.get(Movement.TRANSFER_RETURNED, 0),
            # Liabilities are credit balances: shown as positive amounts owed.
            benefits_outstanding_fen=-(
                closing[Account.BENEFITS_PAYABLE] + closing[Account.PAYOUTS_IN_TRANSIT]
            ),
            refunds_outstanding_fen=-closing[Account.REFUNDS_PAYABLE],
            fund_balance_fen=closing[Account.GATEWAY_CLEARING],
        ),
        accounts=[
            AccountMovement(
                account=f.account.value,
                opening_fen=f.opening_fen,
                debits_fen=f.debits_fen,
                credits_fen=f.credits_fen,
                closing_fen=f.closing_fen,
            )
            for f in figures
        ],
    )
