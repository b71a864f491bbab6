"""Asking the platforms whether a chunk's people work for them, outside any write transaction.

Each platform is asked once for its rows of the chunk (in bulk where it can, else row by row, a
few at a time), all platforms at the same time, each through its breaker: a platform whose
breaker is open is not called, its rows `platform_unavailable` at once. A row passes when the
platform's answer meets the plan's conditions of platform work
(`app.rules.eligibility.check_platform_work`).

The chunk has a time budget (`MUTUALAID_BATCH_CHUNK_BUDGET_SECONDS`): once it is spent no call
or retry starts, and the rows not yet answered are deferred, for a later job, instead of
holding the worker. Calls already under way finish (each is bounded by its timeout), so every
run decides some rows or counts failures towards the breaker: a chunk cannot be deferred for
ever.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from app.batches.outcomes import RowResult
from app.batches.screening import Candidate
from app.core.runtime import Runtime
from app.platforms import asking
from app.platforms import service as platforms
from app.platforms.models import Platform
from app.platforms.verification import Answers, NotAsked, Unavailable, WorkerToVerify
from app.rules.eligibility import PlatformWork, check_platform_work
from app.rules.plan import Plan


@dataclass
class Verdicts:
    """The candidates whose work is verified, the results of those refused, and the candidates
    left for later (the budget was spent before their platform answered)."""

    verified: list[Candidate] = field(default_factory=list)
    refused: list[RowResult] = field(default_factory=list)
    deferred: list[Candidate] = field(default_factory=list)


async def verify(
    runtime: Runtime,
    plan: Plan,
    enabled: dict[str, Platform],
    candidates: list[Candidate],
) -> Verdicts:
    answers = await _ask(runtime, enabled, candidates)
    now = runtime.clock.now()
    verdicts = Verdicts()
    for candidate in candidates:
        work = answers[(candidate.platform_code, candidate.platform_worker_id)]
        if isinstance(work, NotAsked):
            verdicts.deferred.append(candidate)
            continue
        if isinstance(work, Unavailable):
            codes = ["platform_unavailable"]
        else:
            codes = [f.code for f in check_platform_work(plan, work, candidate.work_type, now)]
        if codes:
            verdicts.refused.append(RowResult.rejected(candidate.row_number, candidate.ref, codes))
        else:
            verdicts.verified.append(candidate)
    return verdicts


async def _ask(
    runtime: Runtime, enabled: dict[str, Platform], candidates: list[Candidate]
) -> dict[tuple[str, str], PlatformWork | Unavailable]:
    by_platform: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_platform.setdefault(candidate.platform_code, []).append(candidate)
    if not by_platform:
        return {}
    endpoints = [platforms.endpoint(enabled[code], runtime.cipher) for code in by_platform]
    budget = runtime.settings.batch_chunk_budget_seconds
    verifiers = await asking.for_many(runtime, endpoints, budget)

    async def ask(code: str) -> Answers:
        workers = [
            WorkerToVerify(c.platform_worker_id, c.id_number, c.name) for c in by_platform[code]
        ]
        return await verifiers[code].many(workers)

    codes = list(by_platform)
    answers = await asyncio.gather(*(ask(code) for code in codes))
    return {
        (code, worker_id): work
        for code, by_worker in zip(codes, answers, strict=True)
        for worker_id, work in by_worker.items()
    }
