"""Prometheus metrics: what the service counts, and `GET /metrics` to scrape them."""
