"""What plugs into lower packages from above, registered in one place (like `app.api`): every
kind of background job and its handler, the timed tasks of job workers, and what paying each
kind of payment order does.

Lower packages define the protocols (`app.jobs.worker.Handler`, `app.payments.purposes.PaidOrder`)
and never import the features that implement them; the entry points pass these registries in.
"""

from __future__ import annotations

from datetime import timedelta

from app.batches.chunks import CHUNK_JOB, run_chunk_job
from app.batches.invoices import ACTIVATION_JOB, InvoicePayment, run_activation_job
from app.claims.expiry import expire_overdue_claims
from app.core.clock import utc_now
from app.core.runtime import Runtime
from app.coverage.endings import sweep_ended_periods
from app.coverage.renewals import announce_open_renewals
from app.idempotency.service import purge_older_than
from app.jobs.queue import lanes, purge_done
from app.jobs.worker import Duties, Handler, Periodic
from app.notifications.outbox import SEND_JOB
from app.notifications.sending import purge_phone_days, run_send_job
from app.payments.purposes import EnrolmentPayment, PaidOrders, Purpose
from app.payments.refund_jobs import run_refund_job
from app.payments.refunds import INSTRUCT_REFUND_JOB
from app.payouts.instructions import run_instruct_job
from app.payouts.lifecycle import INSTRUCT_JOB
from app.privacy.erasure import erase_expired
from app.reconciliation.service import (
    RECONCILE_JOB,
    fetch_yesterdays_bill,
    run_reconciliation_job,
)
from app.webhooks.delivery import run_delivery_job
from app.webhooks.outbox import DELIVERY_JOB

JOB_HANDLERS: dict[str, Handler] = {
    CHUNK_JOB: run_chunk_job,
    ACTIVATION_JOB: run_activation_job,
    DELIVERY_JOB: run_delivery_job,
    INSTRUCT_JOB: run_instruct_job,
    INSTRUCT_REFUND_JOB: run_refund_job,
    RECONCILE_JOB: run_reconciliation_job,
    SEND_JOB: run_send_job,
}


async def purge_idempotency_keys(runtime: Runtime) -> int:
    return await purge_older_than(runtime.db, runtime.settings.idempotency_retention_hours)


async def purge_done_jobs(runtime: Runtime) -> int:
    retention = timedelta(days=runtime.settings.job_retention_days)
    return await purge_done(runtime.db, utc_now() - retention)


# Timed work every job worker does. Ends of cover are announced within minutes of midnight;
# renewals opening, within the hour.
PERIODIC_TASKS: tuple[Periodic, ...] = (
    Periodic("coverage_endings", 300.0, sweep_ended_periods),
    Periodic("renewal_openings", 3600.0, announce_open_renewals),
    Periodic("idempotency_purge", 3600.0, purge_idempotency_keys),
    Periodic("jobs_purge", 3600.0, purge_done_jobs),
    Periodic("claims_expiry", 3600.0, expire_overdue_claims),
    Periodic("privacy_erasure", 86400.0, erase_expired),
    Periodic("gateway_bill", 3600.0, fetch_yesterdays_bill),
    Periodic("notification_counts_purge", 3600.0, purge_phone_days),
)

# A lane per partner a job waits on, so that one that hangs holds only its own lane; the
# invoice's activation (the database only) and any other kind share the default lane.
JOB_LANES = lanes(
    {
        "verification": [CHUNK_JOB],
        "webhooks": [DELIVERY_JOB],
        "messages": [SEND_JOB],
        "gateway": [INSTRUCT_JOB, INSTRUCT_REFUND_JOB, RECONCILE_JOB],
    }
)
WORKER_DUTIES = Duties(PERIODIC_TASKS, JOB_LANES)

PAID_ORDERS: PaidOrders = {
    Purpose.ENROLMENT: EnrolmentPayment(),
    Purpose.INVOICE: InvoicePayment(),
}
