"""`GET /metrics` is scraped like Prometheus would, and its counters move with what happens:
requests by route and status, latency, jobs waiting and done, claims by decision and fen."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.core.metrics import after_commit
from app.jobs import queue
from app.jobs.worker import Worker
from app.main import create_app
from tests.support.claims import claim, claims_app, filed
from tests.support.metrics import scrape
from tests.support.service import asgi_client, make_settings


@pytest.fixture
async def app(settings, test_var_dir, db):
    """The claims app (clock at 23 November 2026, 10:00 Shanghai)."""
    async with claims_app(settings, test_var_dir) as application:
        yield application


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_requests_are_counted_by_route_template_and_status(http, citizen):
    before = await scrape(http)

    for _ in range(3):
        assert (await http.get("/v1/plans", headers=citizen)).status_code == 200
    assert (await http.get("/v1/plans")).status_code == 401
    missing = "/v1/claims/00000000-0000-4000-8000-000000000000"
    assert (await http.get(missing, headers=citizen)).status_code == 404

    after = await scrape(http)
    ok = {"method": "GET", "route": "/v1/plans", "status": "200"}
    assert (
        value(after, "mutualaid_http_requests_total", **ok)
        - value(before, "mutualaid_http_requests_total", **ok)
        == 3
    )
    unauthorised = ok | {"status": "401"}
    assert (
        value(after, "mutualaid_http_requests_total", **unauthorised)
        - value(before, "mutualaid_http_requests_total", **unauthorised)
        == 1
    )
    # The id is not a label: the template is.
    by_template = {"method": "GET", "route": "/v1/claims/{claim_id}", "status": "404"}
    assert (
        value(after, "mutualaid_http_requests_total", **by_template)
        - value(before, "mutualaid_http_requests_total", **by_template)
        == 1
    )
    assert not any("00000000-0000" in str(labels) for _, labels in after)
    timed = {"method": "GET", "route": "/v1/plans"}
    assert (
        value(after, "mutualaid_http_request_duration_seconds_count", **timed)
        - value(before, "mutualaid_http_request_duration_seconds_count", **timed)
        == 4
    )
    assert value(
        after, "mutualaid_http_request_duration_seconds_bucket", **timed, le="+Inf"
    ) == value(after, "mutualaid_http_request_duration_seconds_count", **timed)


async def test_claims_are_counted_by_decision_with_the_fen_approved(http, covered, citizen):
    [rider] = await covered()
    before = await scrape(http)

    await filed(
        http, citizen, claim(rider, "accident_condolence", "accident", date(2026, 4, 1), "a")
    )
    await filed(
        http, citizen, claim(rider, "accident_condolence", "accident", date(2026, 4, 2), "b")
    )
    refused = await filed(
        http, citizen, claim(rider, "accident_condolence", "accident", date(2020, 1, 1), "old")
    )
    assert refused["status"] == "rejected"

    after = await scrape(http)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    condolence = {"benefit": "accident_condolence"}
    assert moved("mutualaid_claims_filed_total", **condolence, status="approved") == 2
    assert moved("mutualaid_claims_filed_total", **condolence, status="rejected") == 1
    engine = condolence | {"decided_by": "engine"}
    assert moved("mutualaid_claim_decisions_total", **engine, outcome="approved") == 2
    assert moved("mutualaid_claim_decisions_total", **engine, outcome="rejected") == 1
    assert moved("mutualaid_claim_payable_fen_total", **condolence) == 100_000


async def test_jobs_waiting_and_done(http, runtime):
    ran = []

    async def handler(runtime, job, heartbeat):
        ran.append(job.id)

    async with runtime.db.writer() as session:
        for _ in range(2):
            queue.enqueue(session, "metrics.probe", {})
        await session.commit()
    before = await scrape(http)
    assert value(before, "mutualaid_jobs", kind="metrics.probe", status="queued") == 2

    worker = Worker(runtime, {"metrics.probe": handler})
    while await worker.run_once():
        pass

    after = await scrape(http)
    assert len(ran) == 2
    assert value(after, "mutualaid_jobs", kind="metrics.probe", status="queued") == 0
    done = {"kind": "metrics.probe", "outcome": "done"}
    assert (
        value(after, "mutualaid_jobs_finished_total", **done)
        - value(before, "mutualaid_jobs_finished_total", **done)
        == 2
    )


async def test_a_count_waits_for_its_commit(runtime):
    counted = []
    async with runtime.db.writer() as session:
        await session.execute(select(1))  # counts are registered inside a begun transaction
        after_commit(session, lambda: counted.append("rolled back"))
        await session.rollback()
        after_commit(session, lambda: counted.append("committed"))
        assert counted == []
        await session.commit()
    assert counted == ["committed"]


@pytest.fixture
async def guarded(settings, runtime):
    application = create_app(
        make_settings(settings.database_url, settings.var_dir, MUTUALAID_METRICS_TOKEN="s3cret")
    )
    async with asgi_client(application) as client:
        yield client
    await application.state.runtime.close()


async def test_a_metrics_token_guards_the_scrape(guarded):
    assert (await guarded.get("/metrics")).status_code == 401
    wrong = await guarded.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    await scrape(guarded, headers={"Authorization": "Bearer s3cret"})
