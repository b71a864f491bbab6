"""Claims: condolence claims with every document, decided by the engine, through the HTTP API on
PostgreSQL with 64 concurrent connections driven by wrk; beside it, a bare FastAPI endpoint doing
one INSERT with the same driver (POST /bare), measured in the same run in alternating rounds so
that the machine's changing load falls on both alike.

    make bench            # or: python -m bench.claims [--seconds S] [--rounds R] [--workers N]

Every claim is a new accident of one of the seeded members, with its own Idempotency-Key, the
members taken in turn (a run of 12 minutes at 1,000 claims a second would still keep each member
under the period's cap of twelve, so all are approved): each request authenticates, claims its
idempotency key and locks the member in one statement, reads cover, usage and records in a
second, adjudicates, and writes the claim, its documents, decision, payout, counters, ledger
and audit entries, message and stored answer in a third: one transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
from datetime import timedelta

from bench.harness import Service, fresh_database
from bench.http_bench import (
    CLOCK,
    CONNECTIONS,
    COVER_STARTS,
    Endpoint,
    Rounds,
    load_generator,
    measure_interleaved,
    prepare,
    seed,
)
from bench.load import post
from bench.results import TABLE_HEAD, report
from bench.wrk import WrkLoad

# Issue 18, acceptance 2: a quarter of the bare endpoint's rate, p99 under 300 ms, all 201.
TARGET_SHARE = 0.25
TARGET_P99_MS = 300.0
COVER_DAYS = 300  # accidents fall on one of the cover's first 300 days (as bench/lua/claims.lua)
DOCUMENTS = [
    {"type": kind, "ref": f"doc-{kind}", "sha256": hashlib.sha256(kind.encode()).hexdigest()}
    for kind in ("id_proof", "accident_proof", "medical_record")
]


def claim_body(members: list[str], n: int) -> dict[str, object]:
    return {
        "member_id": members[n % len(members)],
        "benefit": "accident_condolence",
        "event": {
            "kind": "accident",
            "occurred_on": (COVER_STARTS + timedelta(days=n % COVER_DAYS)).isoformat(),
            "ref": f"bench-{n}",
        },
        "facts": {},
        "documents": DOCUMENTS,
    }


def claims(members: list[str], api_key: str, members_file: str) -> Endpoint:
    headers = {"Authorization": f"Bearer {api_key}"}

    def request(n: int) -> bytes:
        body = json.dumps(claim_body(members, n)).encode()
        return post("/v1/claims", body, headers | {"Idempotency-Key": f"bench-{n}"})

    documents = json.dumps(DOCUMENTS, separators=(",", ":"))
    return Endpoint(
        WrkLoad("claims.lua", (members_file, api_key, documents, COVER_STARTS.isoformat())),
        request,
        outcome=_claim_status,
    )


def _claim_status(body: bytes) -> str:
    return str(json.loads(body).get("status"))


def bare_inserts() -> Endpoint:
    def request(n: int) -> bytes:
        return post("/bare", json.dumps({"n": n}).encode(), {})

    return Endpoint(WrkLoad("bare_insert.lua"), request)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0, help="per endpoint, in all")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=2, help="API worker processes")
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each")
    args = parser.parse_args()

    with fresh_database() as database_url:
        service = Service(database_url, extra_env={"MUTUALAID_CLOCK": CLOCK})
        created = prepare(service, "citizen_app")
        members = [
            str(m.member_id) for m in asyncio.run(seed(service, created["id"], args.members))
        ]
        members_file = service.var_dir / "bench-members.txt"
        members_file.write_text("\n".join(members) + "\n")
        print(f"seeded {len(members)} covered members; load from {load_generator()}")
        filed, bare_result = measure_interleaved(
            service,
            args.workers,
            claims(members, created["api_key"], str(members_file)),
            bare_inserts(),
            Rounds(args.rounds, args.seconds / args.rounds, args.warmup),
        )

    print(f"\n{CONNECTIONS} connections, {args.workers} API workers, {args.seconds:.0f} s each")
    print(TABLE_HEAD)
    print(report("POST /v1/claims (auto-adjudicated)", filed))
    print(report("bare FastAPI, one INSERT", bare_result))
    print(f"claim outcomes: {dict(filed.outcomes)}")
    share = filed.per_second / bare_result.per_second
    all_created = set(filed.statuses) == {201} and not filed.socket_errors
    met = share >= TARGET_SHARE and filed.percentile_ms(0.99) < TARGET_P99_MS and all_created
    print(
        f"claims reach {share:.0%} of the bare endpoint; target {TARGET_SHARE:.0%} with p99 "
        f"under {TARGET_P99_MS:.0f} ms, every answer 201: " + ("met" if met else "NOT met")
    )


if __name__ == "__main__":
    main()
