"""What a payment order pays for, and what its payment does.

An order pays for one individual application (the government app's premium) or for a union's
invoice. Payments knows the first; the feature that issues any other kind of order registers
what its payment does, from the top of the application (`app.handlers.PAID_ORDERS`), so that
payments imports none of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.crypto import PersonalDataCipher
from app.enrolment.models import Enrolment
from app.payments import activation, refunds
from app.payments.models import PaymentOrder
from app.payments.schemas import CoverageOut


class Purpose(StrEnum):
    ENROLMENT = "enrolment"  # `enrolment_id`: one individual application
    INVOICE = "invoice"  # `batch_id`: a union's invoice for a batch's accepted rows


def purpose_of(order: PaymentOrder) -> Purpose:
    return Purpose.INVOICE if order.batch_id is not None else Purpose.ENROLMENT


@dataclass(frozen=True)
class Paid:
    """What a payment did: the notification's outcome, and the cover it started at once."""

    outcome: str
    coverage: CoverageOut | None = None


class PaidOrder(Protocol):
    """The consequences of paying one kind of order, inside the notification's transaction."""

    async def applied_on(self, session: AsyncSession, order: PaymentOrder) -> date:
        """When what the order pays for was applied for: no payment can predate it."""
        ...

    async def paid(
        self,
        session: AsyncSession,
        cipher: PersonalDataCipher,
        order: PaymentOrder,
        paid_at: datetime,
    ) -> Paid: ...


PaidOrders = Mapping[Purpose, PaidOrder]


class EnrolmentPayment:
    """The government app's premium: the application's cover starts in this transaction."""

    async def applied_on(self, session: AsyncSession, order: PaymentOrder) -> date:
        enrolment = await session.get(Enrolment, order.enrolment_id)
        assert enrolment is not None
        return enrolment.applied_on

    async def paid(
        self,
        session: AsyncSession,
        cipher: PersonalDataCipher,
        order: PaymentOrder,
        paid_at: datetime,
    ) -> Paid:
        enrolment = await session.get(Enrolment, order.enrolment_id, with_for_update=True)
        assert enrolment is not None
        [started] = await activation.activate_many(session, cipher, [enrolment], order, paid_at)
        if started.reason is not None:
            await refunds.owe(session, order, order.amount_fen, started.reason)
        return Paid(started.outcome, started.coverage)
