"""Demo data: clients, a partner platform, and covered members, for newcomers, benchmarks and
tests of what comes after cover. Never used by the service's own flows."""
