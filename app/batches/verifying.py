"""Asking the platforms whether a chunk's people work for them, outside any write transaction.

Each platform is asked once for its rows of the chunk (in bulk where it can, else row by row, a
few at a time), all platforms at the same time. A row passes when the platform's answer meets
the plan's conditions of platform work (`app.rules.eligibility.check_platform_work`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from app.batches.outcomes import RowResult
from app.batches.screening import Candidate
from app.core.runtime import Runtime
from app.platforms import service as platforms
from app.platforms.models import Platform
from app.platforms.verification import (
    Unavailable,
    WorkerToVerify,
    verifier_settings,
    verify_workers,
)
from app.rules.eligibility import check_platform_work
from app.rules.plan import Plan


async def verify(
    runtime: Runtime,
    plan: Plan,
    enabled: dict[str, Platform],
    candidates: list[Candidate],
) -> tuple[list[Candidate], list[RowResult]]:
    """The candidates whose work is verified, and the results of the others."""
    answers = await _ask(runtime, enabled, candidates)
    now = runtime.clock.now()
    verified, refused = [], []
    for candidate in candidates:
        work = answers[(candidate.platform_code, candidate.platform_worker_id)]
        if isinstance(work, Unavailable):
            codes = ["platform_unavailable"]
        else:
            codes = [f.code for f in check_platform_work(plan, work, candidate.work_type, now)]
        if codes:
            refused.append(RowResult.rejected(candidate.row_number, candidate.ref, codes))
        else:
            verified.append(candidate)
    return verified, refused


async def _ask(
    runtime: Runtime, enabled: dict[str, Platform], candidates: list[Candidate]
) -> dict[tuple[str, str], Any]:
    by_platform: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_platform.setdefault(candidate.platform_code, []).append(candidate)
    codes = list(by_platform)

    async def ask(code: str) -> dict[str, Any]:
        endpoint = platforms.endpoint(enabled[code], runtime.cipher)
        workers = [
            WorkerToVerify(c.platform_worker_id, c.id_number, c.name) for c in by_platform[code]
        ]
        settings = verifier_settings(runtime.settings, bulk=endpoint.bulk_verify_url is not None)
        return await verify_workers(runtime.http, endpoint, workers, settings)

    answers = await asyncio.gather(*(ask(code) for code in codes))
    return {
        (code, worker_id): work
        for code, by_worker in zip(codes, answers, strict=True)
        for worker_id, work in by_worker.items()
    }
