"""What a measured run of one endpoint comes to, whichever load generator drove it: requests,
time, statuses, what the answers said, and latency as equal-mass quantiles, so that the
alternating rounds of one endpoint add up to one distribution."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

QUANTILES = 1000  # as bench/lua/common.lua


@dataclass
class Measurement:
    requests: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    # (milliseconds, how many requests the sample stands for)
    samples: list[tuple[float, float]] = field(default_factory=list)
    socket_errors: int = 0

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile_ms(self, p: float) -> float:
        ordered = sorted(self.samples)
        total = sum(weight for _, weight in ordered)
        if not total:
            return float("nan")
        seen = 0.0
        for value, weight in ordered:
            seen += weight
            if seen >= p * total:
                return value
        return ordered[-1][0]

    def add(self, part: Measurement) -> None:
        self.requests += part.requests
        self.seconds += part.seconds
        self.statuses.update(part.statuses)
        self.outcomes.update(part.outcomes)
        self.samples += part.samples
        self.socket_errors += part.socket_errors


def quantile_samples(latencies_ms: list[float]) -> list[tuple[float, float]]:
    """`QUANTILES` equal-mass samples of a run's latencies (the midpoint of each slice)."""
    ordered = sorted(latencies_ms)
    if not ordered:
        return []
    weight = len(ordered) / QUANTILES
    return [
        (ordered[min(len(ordered) - 1, int((i + 0.5) * len(ordered) / QUANTILES))], weight)
        for i in range(QUANTILES)
    ]


def report(name: str, result: Measurement) -> str:
    errors = f", socket errors {result.socket_errors}" if result.socket_errors else ""
    return (
        f"| {name} | {result.requests} | {result.per_second:,.0f} | "
        f"{result.percentile_ms(0.5):.1f} | {result.percentile_ms(0.99):.1f} | "
        f"{dict(sorted(result.statuses.items()))}{errors} |"
    )


TABLE_HEAD = (
    "| endpoint | requests | per second | p50 ms | p99 ms | statuses |\n|---|---|---|---|---|---|"
)
