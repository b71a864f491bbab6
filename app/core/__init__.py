"""Shared infrastructure every layer may use, and that uses no feature: settings, clock, database
and unit of work, errors and problem+json, policy, signing, the notification inbox, the metrics
registry, logging."""
