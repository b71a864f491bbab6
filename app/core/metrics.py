"""Every metric the service exports, defined once.

Counters live in the process that counts (API processes count requests and claims; job workers
count jobs) in prometheus_client's default registry. With several API processes behind one port
(`mutualaid serve --workers N`) the CLI sets `PROMETHEUS_MULTIPROC_DIR`, and each scrape adds up
every process's files. Job workers serve their own counters on `--metrics-port`.

Things that are facts of the database rather than of one process (how many jobs wait) are read
at scrape time instead, by `app.metrics.endpoints`. The registry lives in `core` because
every layer counts something: the request middleware, the job worker, claims.

Claim counts move when the transaction that recorded the decision commits, never before: a
filing rolled back by a lost connection and retried must count once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from prometheus_client import Counter, Histogram
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

HTTP_REQUESTS = Counter(
    "mutualaid_http_requests",
    "HTTP requests answered, by route template and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "mutualaid_http_request_duration_seconds",
    "Time from the request's arrival to the end of its response, by route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
JOBS_FINISHED = Counter(
    "mutualaid_jobs_finished",
    "Background job runs by kind and outcome: done, failed (for good), retry (later), or "
    "lost_lease (the job had passed to another worker, which counts it).",
    ["kind", "outcome"],
)
CLAIMS_FILED = Counter(
    "mutualaid_claims_filed",
    "Claims filed, by benefit and the status filing gave them.",
    ["benefit", "status"],
)
CLAIM_DECISIONS = Counter(
    "mutualaid_claim_decisions",
    "Final claim decisions, by benefit, outcome and who decided (engine or examiner).",
    ["benefit", "outcome", "decided_by"],
)
CLAIM_PAYABLE_FEN = Counter(
    "mutualaid_claim_payable_fen",
    "Fen approved for payment by final decisions, by benefit.",
    ["benefit"],
)

_AFTER_COMMIT = "mutualaid.metrics.after_commit"
logger = logging.getLogger(__name__)


def after_commit(session: AsyncSession, count: Callable[[], None]) -> None:
    """Run `count` once the session's transaction commits; forget it if it rolls back."""
    session.sync_session.info.setdefault(_AFTER_COMMIT, []).append(count)


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    for count in session.info.pop(_AFTER_COMMIT, []):
        try:
            count()
        except Exception as exc:  # the work is committed: a metric must not fail the request
            logger.warning("metric not counted", extra={"error": type(exc).__name__})


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    # Every rollback of the whole transaction, even one that had not reached the database yet;
    # a savepoint rolled back inside a transaction that goes on to commit forgets nothing.
    if not previous_transaction.nested:
        session.info.pop(_AFTER_COMMIT, None)
