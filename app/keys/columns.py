"""Where the service keeps ciphertext and keyed hashes: the one list rotation walks.

Every value written with `cipher.encrypt` or `encrypt_bytes` lives in a column named here, with
the associated data (`context`) it was sealed with. A test fails when a table gains a binary
column that is missing, so a new encrypted column cannot be forgotten at the next rotation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table

from app.batches.models import BatchChunk
from app.batches.upload import chunk_context
from app.claims.filing import BENEFICIARY_ID_NUMBER, BENEFICIARY_NAME
from app.claims.models import (
    DECISION_FACTS_CONTEXT,
    DECISION_LINES_CONTEXT,
    DECISION_REASONS_CONTEXT,
    FACTS_CONTEXT,
    Claim,
    ClaimDecision,
)
from app.core.models import Base
from app.coverage.models import (
    GRADE_CONTEXT,
    USAGE_DIED_ON_CONTEXT,
    EventUsageRecord,
    PeriodUsage,
)
from app.enrolment.models import Enrolment
from app.idempotency.models import RESPONSE_CONTEXT, IdempotencyRecord
from app.members import service as members
from app.members.models import DIED_ON_CONTEXT, Member
from app.payouts.accounts import ACCOUNT_CONTEXT
from app.payouts.models import Payout, PayoutAccount
from app.platforms.models import Platform
from app.platforms.service import CREDENTIAL_CONTEXT
from app.webhooks.models import WebhookEndpoint
from app.webhooks.service import SECRET_CONTEXT

Context = Callable[[Mapping[str, Any]], str]


def _fixed(context: str) -> Context:
    return lambda _row: context


@dataclass(frozen=True)
class EncryptedColumns:
    """A table's encrypted columns, each with the context of a given row (by column name)."""

    table: Table
    contexts: Mapping[str, Context]
    # Batch uploads are megabytes each: a few per transaction, not a thousand.
    max_batch: int = 10_000

    def label(self, column: str) -> str:
        return f"{self.table.name}.{column}"


def _table(model: type[Base]) -> Table:
    return Base.metadata.tables[model.__tablename__]


ENCRYPTED: tuple[EncryptedColumns, ...] = (
    EncryptedColumns(
        _table(Member),
        {
            "id_number_cipher": _fixed(members.ID_NUMBER),
            "name_cipher": _fixed(members.NAME),
            "phone_cipher": _fixed(members.PHONE),
            "died_on_cipher": _fixed(DIED_ON_CONTEXT),
        },
    ),
    EncryptedColumns(_table(PeriodUsage), {"died_on_cipher": _fixed(USAGE_DIED_ON_CONTEXT)}),
    EncryptedColumns(_table(EventUsageRecord), {"disability_grade_cipher": _fixed(GRADE_CONTEXT)}),
    EncryptedColumns(
        _table(Enrolment),
        {"name_cipher": _fixed(members.NAME), "phone_cipher": _fixed(members.PHONE)},
    ),
    EncryptedColumns(
        _table(Claim),
        {
            "beneficiary_name_cipher": _fixed(BENEFICIARY_NAME),
            "beneficiary_id_number_cipher": _fixed(BENEFICIARY_ID_NUMBER),
            "payee_account_cipher": _fixed(ACCOUNT_CONTEXT),
            "facts_cipher": _fixed(FACTS_CONTEXT),
        },
    ),
    EncryptedColumns(
        _table(ClaimDecision),
        {
            "facts_cipher": _fixed(DECISION_FACTS_CONTEXT),
            "lines_cipher": _fixed(DECISION_LINES_CONTEXT),
            "reasons_cipher": _fixed(DECISION_REASONS_CONTEXT),
        },
    ),
    EncryptedColumns(_table(Payout), {"account_cipher": _fixed(ACCOUNT_CONTEXT)}),
    EncryptedColumns(
        _table(IdempotencyRecord), {"response_cipher": _fixed(RESPONSE_CONTEXT)}, max_batch=1_000
    ),
    EncryptedColumns(_table(PayoutAccount), {"account_cipher": _fixed(ACCOUNT_CONTEXT)}),
    EncryptedColumns(_table(Platform), {"credential_cipher": _fixed(CREDENTIAL_CONTEXT)}),
    EncryptedColumns(
        _table(WebhookEndpoint),
        {
            "secret_cipher": _fixed(SECRET_CONTEXT),
            "previous_secret_cipher": _fixed(SECRET_CONTEXT),
        },
    ),
    EncryptedColumns(
        _table(BatchChunk),
        {"rows_cipher": lambda row: chunk_context(str(row["batch_id"]), row["chunk_no"])},
        max_batch=5,
    ),
)

# Binary columns that hold no personal data and are stored as they are: the gateway's bills
# (references, amounts and moments), kept compressed for a reconciliation run to read.
PLAIN_BINARY = frozenset({"reconciliations.bill_gzip"})

# Keyed hashes (HMAC under LOOKUP_KEY) exist only on members: the ID number's (unique, how a
# person is found and kept from enrolling twice) and the phone's. Each is the hash of the
# plaintext in the ciphertext column beside it, under the same context.
LOOKUP_HASHES: tuple[tuple[str, str, str], ...] = (
    ("id_number_hash", "id_number_cipher", members.ID_NUMBER),
    ("phone_hash", "phone_cipher", members.PHONE),
)
HASHED_TABLE = _table(Member)
