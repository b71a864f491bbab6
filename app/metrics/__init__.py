"""`GET /metrics`, the Prometheus scrape. What is counted is defined in `app.core.metrics`."""
