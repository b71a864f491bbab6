"""Claims: condolence claims with every document, decided by the engine, through the HTTP API on
PostgreSQL with 64 concurrent clients; beside it, a bare FastAPI endpoint doing one INSERT with
the same driver, measured in the same run with the same load generator.

    make bench            # or: python -m bench.claims [--seconds S] [--workers N]

Every claim is a new accident of one of the seeded members (at most ten per member, so all are
approved): each request authenticates, claims its idempotency key, locks the member, reads
cover and usage, adjudicates, and writes the claim, its documents, decision, payout, counters
and audit event in one transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
from collections import Counter
from datetime import timedelta

from bench.harness import Service, fresh_database
from bench.http_bench import (
    CLOCK,
    CONNECTIONS,
    COVER_STARTS,
    TABLE_HEAD,
    measure_bare,
    measure_service,
    prepare,
    report,
    seed,
)
from bench.load import post

TARGET_PER_SECOND = 500.0
TARGET_P99_MS = 200.0
DOCUMENTS = [
    {"type": kind, "ref": f"doc-{kind}", "sha256": hashlib.sha256(kind.encode()).hexdigest()}
    for kind in ("id_proof", "accident_proof", "medical_record")
]


def claim_requests(members: list[str], api_key: str):
    headers = {"Authorization": f"Bearer {api_key}"}

    def for_run(run: str):
        def request(n: int) -> bytes:
            body = {
                "member_id": members[n % len(members)],
                "benefit": "accident_condolence",
                "event": {
                    "kind": "accident",
                    "occurred_on": (COVER_STARTS + timedelta(days=n % 300)).isoformat(),
                    "ref": f"{run}-{n}",
                },
                "facts": {},
                "documents": DOCUMENTS,
            }
            return post(
                "/v1/claims",
                json.dumps(body).encode(),
                headers | {"Idempotency-Key": f"{run}-{n}"},
            )

        return request

    return for_run


def bare_requests(run: str):
    def request(n: int) -> bytes:
        return post("/bare", json.dumps({"n": n, "run": run}).encode(), {})

    return request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=2, help="API worker processes")
    parser.add_argument("--members", type=int, default=5000)
    args = parser.parse_args()

    with fresh_database() as database_url:
        service = Service(database_url, extra_env={"MUTUALAID_CLOCK": CLOCK})
        created = prepare(service, "citizen_app")
        members = [
            str(m.member_id) for m in asyncio.run(seed(service, created["id"], args.members))
        ]
        print(f"seeded {len(members)} covered members")
        requests = claim_requests(members, created["api_key"])
        claims = measure_service(service, args.workers, requests, args.seconds, args.warmup)
        outcomes = Counter(json.loads(body).get("status") for body in claims.bodies)
        bare_result = measure_bare(service, args.workers, bare_requests, args.seconds, args.warmup)

    print(f"\n{CONNECTIONS} concurrent clients, {args.workers} API workers, {args.seconds:.0f} s")
    print(TABLE_HEAD)
    print(report("POST /v1/claims (auto-adjudicated)", claims))
    print(report("bare FastAPI, one INSERT", bare_result))
    print(f"claim outcomes: {dict(outcomes)}")
    print(
        f"claims reach {claims.per_second / bare_result.per_second:.0%} of the bare endpoint; "
        f"target {TARGET_PER_SECOND:.0f}/s with p99 under {TARGET_P99_MS:.0f} ms: "
        + (
            "met"
            if claims.per_second >= TARGET_PER_SECOND and claims.percentile_ms(0.99) < TARGET_P99_MS
            else "NOT met"
        )
    )


if __name__ == "__main__":
    main()
