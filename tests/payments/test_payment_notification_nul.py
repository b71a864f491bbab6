"""A NUL in a signed premium notification is bad input (422) on both databases, as it is for
payout notifications: PostgreSQL text cannot hold one, so storing the event failed as a 500."""

from __future__ import annotations

import pytest

from tests.support.payments import enrol_and_order, notification, notify


@pytest.mark.parametrize(
    "changes",
    [{"event_id": "evt-nul\u0000"}, {"channel": "alipay\u0000"}],
    ids=["event_id", "channel"],
)
async def test_a_nul_in_a_premium_notification_is_refused(http, citizen, changes):
    _, order = await enrol_and_order(http, citizen)

    response = await notify(http, notification(order, **changes))

    assert response.status_code == 422, response.text
