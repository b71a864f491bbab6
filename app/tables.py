"""The model registry: every module that defines tables, imported in one place.

`Base.metadata` knows a table only once the module defining it has been imported, and foreign
keys between features' tables (a claim's member, a payout's period) resolve only when both are
known. Feature packages never import this module and `core` imports no feature: the entry points
(`app.main`, the command line, Alembic's environment, the tests) call `import_all_models()`
before they touch the database.
"""

from __future__ import annotations

from sqlalchemy import MetaData

from app.core.models import Base


def import_all_models() -> MetaData:
    """Import every table-defining module; the complete metadata."""
    import app.audit.models
    import app.batches.models
    import app.breakers.models
    import app.claims.models
    import app.clients.models
    import app.coverage.models
    import app.enrolment.models
    import app.idempotency.models
    import app.jobs.models
    import app.ledger.models
    import app.members.models
    import app.members.reads
    import app.notifications.models
    import app.payments.models
    import app.payouts.models
    import app.platforms.models
    import app.reconciliation.models
    import app.webhooks.models  # noqa: F401

    return Base.metadata
