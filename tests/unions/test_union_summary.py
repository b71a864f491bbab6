"""A district union's summary over HTTP, on both databases, with its batches: the rows its
batches enrolled and paid, its members' cover, and what its invoices paid; another union's
batches and members never count."""

from __future__ import annotations

from tests.support.batches import BEIJING, RIDERS, drain, row
from tests.support.batches import submit as submit_batch
from tests.support.clients import assert_problem
from tests.support.enrolment import application, apply
from tests.support.payments import notification, notify

PAID_AT = "2026-11-23T03:00:00+00:00"  # 11:00 in Shanghai: cover from the 24th


async def union_summary(http, headers, first="2026-11-01", last="2026-11-30") -> dict:
    response = await http.get(
        "/v1/reports/union-summary", params={"from": first, "to": last}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def paid_batch(http, app, headers, rows, key) -> dict:
    batch = (await submit_batch(http, headers, rows, key=key)).json()
    await drain(app)
    invoice = (await http.get(f"/v1/enrolment-batches/{batch['id']}", headers=headers)).json()[
        "invoice"
    ]
    assert (await notify(http, notification(invoice, paid_at=PAID_AT))).status_code == 200
    await drain(app)
    return invoice


async def test_a_unions_batches_members_cover_and_invoices_are_its_own(
    http, app, citizen, xuhui, pudong
):
    ours = [row(f"x{i}", RIDERS[i], f"rider-{i}") for i in range(3)]
    invoice = await paid_batch(
        http, app, xuhui, [*ours, row("bj", BEIJING, "rider-bj")], key="xuhui-1"
    )
    # Pudong's batch is not paid; a worker joins Xuhui's union through the app, unpaid too.
    await submit_batch(http, pudong, [row("p0", RIDERS[3], "rider-3")], key="pudong-1")
    await drain(app)
    joined = await apply(
        http, citizen, application(RIDERS[4], "rider-4", work_district="310104"), key="app"
    )
    assert joined.status_code == 201, joined.text

    xuhui_figures = await union_summary(http, xuhui)
    pudong_figures = await union_summary(http, pudong)
    before = await union_summary(http, xuhui, "2026-10-01", "2026-10-31")

    assert invoice["amount_fen"] == 3 * 7200
    assert xuhui_figures["members"] == 4
    assert xuhui_figures["enrolments"] == {
        "individual": {"accepted": 1, "paid": 0},
        "batch": {"accepted": 3, "paid": 3},
    }
    assert xuhui_figures["cover"] == {"active_on": "2026-11-30", "active": 3, "started": 3}
    assert xuhui_figures["premiums"] == {"invoices_paid": 1, "paid_fen": 21_600, "refunded_fen": 0}
    assert pudong_figures["members"] == 1
    assert pudong_figures["enrolments"] == {
        "individual": {"accepted": 0, "paid": 0},
        "batch": {"accepted": 1, "paid": 0},
    }
    assert pudong_figures["cover"]["active"] == 0
    assert pudong_figures["premiums"] == {"invoices_paid": 0, "paid_fen": 0, "refunded_fen": 0}
    # October: before any of it.
    assert before["members"] == 0
    assert before["enrolments"]["batch"] == {"accepted": 0, "paid": 0}
    assert before["premiums"]["invoices_paid"] == 0


async def test_a_backwards_range_is_refused(http, xuhui):
    response = await http.get(
        "/v1/reports/union-summary",
        params={"from": "2026-02-01", "to": "2026-01-31"},
        headers=xuhui,
    )
    assert_problem(response, 422, "invalid_date_range")
