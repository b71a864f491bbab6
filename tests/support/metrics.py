"""Scraping `GET /metrics` as Prometheus would."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


async def scrape(http, headers=None) -> dict[tuple[str, frozenset], float]:
    response = await http.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
