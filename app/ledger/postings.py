"""Which accounts a movement of money touches: the chart of accounts and the postings, pure.

Amounts are signed fen, debit positive and credit negative, so every entry sums to zero and an
account's balance is the sum of its lines. `gateway_clearing` is the fund's money held at the
payment gateway: its balance is what was received, less what was refunded and paid out.

    premium received        Dr gateway_clearing   Cr premium_income
    payment not owed        Dr gateway_clearing   Cr refunds_payable     (a duplicate payment)
    refund due              Dr premium_income     Cr refunds_payable     (a premium given back)
    refund paid             Dr refunds_payable    Cr gateway_clearing
    benefit approved        Dr benefit_expense    Cr benefits_payable
    transfer instructed     Dr benefits_payable   Cr payouts_in_transit
    transfer paid           Dr payouts_in_transit Cr gateway_clearing
    transfer failed         Dr payouts_in_transit Cr benefits_payable  (owed again)
    transfer returned       Dr gateway_clearing   Cr benefits_payable  (the bank sent it back)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Account(StrEnum):
    GATEWAY_CLEARING = "gateway_clearing"
    PREMIUM_INCOME = "premium_income"
    REFUNDS_PAYABLE = "refunds_payable"
    BENEFIT_EXPENSE = "benefit_expense"
    BENEFITS_PAYABLE = "benefits_payable"
    PAYOUTS_IN_TRANSIT = "payouts_in_transit"


class Movement(StrEnum):
    PREMIUM_RECEIVED = "premium_received"
    PAYMENT_NOT_OWED = "payment_not_owed"
    REFUND_DUE = "refund_due"
    REFUND_PAID = "refund_paid"
    BENEFIT_APPROVED = "benefit_approved"
    TRANSFER_INSTRUCTED = "transfer_instructed"
    TRANSFER_PAID = "transfer_paid"
    TRANSFER_FAILED = "transfer_failed"
    TRANSFER_RETURNED = "transfer_returned"


# Each movement: (the account debited, the account credited).
POSTINGS: dict[Movement, tuple[Account, Account]] = {
    Movement.PREMIUM_RECEIVED: (Account.GATEWAY_CLEARING, Account.PREMIUM_INCOME),
    Movement.PAYMENT_NOT_OWED: (Account.GATEWAY_CLEARING, Account.REFUNDS_PAYABLE),
    Movement.REFUND_DUE: (Account.PREMIUM_INCOME, Account.REFUNDS_PAYABLE),
    Movement.REFUND_PAID: (Account.REFUNDS_PAYABLE, Account.GATEWAY_CLEARING),
    Movement.BENEFIT_APPROVED: (Account.BENEFIT_EXPENSE, Account.BENEFITS_PAYABLE),
    Movement.TRANSFER_INSTRUCTED: (Account.BENEFITS_PAYABLE, Account.PAYOUTS_IN_TRANSIT),
    Movement.TRANSFER_PAID: (Account.PAYOUTS_IN_TRANSIT, Account.GATEWAY_CLEARING),
    Movement.TRANSFER_FAILED: (Account.PAYOUTS_IN_TRANSIT, Account.BENEFITS_PAYABLE),
    Movement.TRANSFER_RETURNED: (Account.GATEWAY_CLEARING, Account.BENEFITS_PAYABLE),
}


@dataclass(frozen=True, slots=True)
class Line:
    account: Account
    amount_fen: int  # debit positive, credit negative


def lines_of(movement: Movement, amount_fen: int) -> tuple[Line, Line]:
    """The two balanced lines of a movement of a positive amount."""
    if amount_fen <= 0:
        raise ValueError("a movement moves a positive amount")
    debit, credit = POSTINGS[movement]
    return Line(debit, amount_fen), Line(credit, -amount_fen)
