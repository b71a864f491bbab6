"""The scrape must answer while the database is away: that is when the request counters (503s
climbing) matter most, and a failed scrape loses every metric, not only the queue gauge."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from app.main import create_app
from tests.support.service import asgi_client


async def test_metrics_are_scraped_when_the_database_is_gone(settings, tmp_path):
    broken = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}/missing/x.db"})
    app = create_app(broken)
    async with asgi_client(app) as http:
        assert (await http.get("/readyz")).status_code == 503
        response = await http.get("/metrics")
    await app.state.runtime.db.dispose()

    assert response.status_code == 200, response.text
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert "mutualaid_http_requests" in names
