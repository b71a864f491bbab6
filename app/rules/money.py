"""Money is integer fen. The one rounding rule lives here.

Shares of an amount (a 30% mild critical illness, a 50% medical subsidy, a 70% disability ratio)
are rounded down to the fen: the plan never pays more than its rule allows, and the same input
always gives the same fen on every machine.
"""

from __future__ import annotations

FEN_PER_YUAN = 100


def share_of(amount_fen: int, percent: int) -> int:
    """`percent`% of `amount_fen`, rounded down to the fen."""
    if amount_fen < 0:
        raise ValueError("amounts are never negative")
    if not 0 <= percent <= 100:
        raise ValueError("a share is between 0 and 100 percent")
    return amount_fen * percent // 100


def yuan(amount_fen: int) -> str:
    """`720000000` -> `¥7,200,000.00`, for explanations people read."""
    sign = "-" if amount_fen < 0 else ""
    whole, fen = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}¥{whole:,}.{fen:02d}"
