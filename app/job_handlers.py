"""Every kind of background job and its handler, registered in one place (like `app.api`)."""

from __future__ import annotations

from app.batches.invoices import ACTIVATION_JOB, run_activation_job
from app.batches.processing import CHUNK_JOB, run_chunk_job
from app.jobs.worker import Handler

JOB_HANDLERS: dict[str, Handler] = {
    CHUNK_JOB: run_chunk_job,
    ACTIVATION_JOB: run_activation_job,
}
