"""A chunk's job: its kind, and how it is queued, under its union's name so that the job
workers take turns between unions (`app.jobs.queue.claim`): one union's large batch, or a batch
for a slow platform, does not keep another union's batch waiting until it is done."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs import queue
from app.jobs.models import Job

CHUNK_JOB = "enrolment_batch.chunk"


def enqueue_chunk(
    session: AsyncSession, batch_id: uuid.UUID, chunk_no: int, union_org_code: str
) -> Job:
    return queue.enqueue(
        session,
        CHUNK_JOB,
        {"batch_id": str(batch_id), "chunk_no": chunk_no},
        fair_key=f"union:{union_org_code}",
    )
