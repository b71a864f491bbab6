"""Claims, their documents and decisions, and the payout ledger.

Every table that belongs to a member carries `member_id`, the distribution key on Citus.
Decisions, payouts and settlements are written once and never changed: the ledger is the record
of what the plan owes and paid.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAt, UUIDPrimaryKey, sql_values
from app.core.sealing import SealedJSON

FACTS_CONTEXT = "claim.facts"
DECISION_FACTS_CONTEXT = "claim_decision.facts"
DECISION_LINES_CONTEXT = "claim_decision.lines"
DECISION_REASONS_CONTEXT = "claim_decision.reasons"


class ClaimStatus(StrEnum):
    PENDING_DOCUMENTS = "pending_documents"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # by its filer, while pending
    EXPIRED = "expired"  # left waiting for documents past the plan's documents_due_days


PENDING = (ClaimStatus.PENDING_DOCUMENTS, ClaimStatus.PENDING_REVIEW)

# A first decision, and the decision on the claim's one appeal.
FIRST_DECISION, ON_APPEAL = 1, 2


class DecidedBy(StrEnum):
    ENGINE = "engine"  # the facts as filed decided it
    EXAMINER = "examiner"  # an examiner judged the facts (or refused)


class Claim(UUIDPrimaryKey, CreatedAt, Base):
    """A member's claim for one benefit from one event, with the facts as filed.

    `dedup_key` identifies member, benefit, event and facts while the claim is pending or
    approved; a second such claim is refused `duplicate_claim`. A refused claim releases it, so
    the same facts can be filed again once what was missing is there.
    """

    __tablename__ = "claims"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_values(ClaimStatus)})", name="status"),
        Index(None, "member_id", "event_ref"),
        Index(None, "status", "created_at"),
        Index(None, "filed_by_client_id", "created_at"),
        Index(None, "filer_role", "filer_org_code", "created_at"),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    plan_code: Mapped[str] = mapped_column(String(64))
    # The plan version it is decided by: that of the period its event falls in.
    plan_version: Mapped[str | None] = mapped_column(String(32))
    benefit: Mapped[str] = mapped_column(String(32))
    event_kind: Mapped[str] = mapped_column(String(16))
    event_occurred_on: Mapped[date]
    event_ref: Mapped[str] = mapped_column(String(64))
    # The facts as filed (diseases, grades, dates of death): sealed at rest.
    facts_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    facts = SealedJSON("facts_cipher", FACTS_CONTEXT)
    status: Mapped[str] = mapped_column(String(24))
    filed_on: Mapped[date]
    filed_by_client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_clients.id"))
    filer_role: Mapped[str] = mapped_column(String(16))
    filer_org_code: Mapped[str | None] = mapped_column(String(64))
    dedup_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # For a death benefit paid to a beneficiary: who, encrypted, and masked for responses.
    beneficiary_name_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    beneficiary_name_masked: Mapped[str | None] = mapped_column(String(64))
    beneficiary_id_number_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    beneficiary_id_number_masked: Mapped[str | None] = mapped_column(String(24))
    # The account given with the claim for its payout, sealed like every payee account.
    payee_account_kind: Mapped[str | None] = mapped_column(String(8))
    payee_account_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    payee_account_masked: Mapped[str | None] = mapped_column(String(64))
    # The filer's one appeal of a refusal: when, and on what grounds.
    appealed_at: Mapped[datetime | None]
    appeal_grounds: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None]


class ClaimDocument(UUIDPrimaryKey, CreatedAt, Base):
    """A document the filer holds for the claim: its type, their reference, and its digest."""

    __tablename__ = "claim_documents"
    __table_args__ = (UniqueConstraint("claim_id", "type", "ref"),)

    claim_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("claims.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    type: Mapped[str] = mapped_column(String(40))
    ref: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    added_by_client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_clients.id"))


class ClaimDecision(UUIDPrimaryKey, CreatedAt, Base):
    """A final decision on a claim, as the rules core explained it. Written once: a claim has
    its first decision and, if that refusal was appealed, the decision on appeal (`round` 2)."""

    __tablename__ = "claim_decisions"
    __table_args__ = (
        UniqueConstraint("claim_id", "round"),
        CheckConstraint("round IN (1, 2)", name="round"),
        CheckConstraint("outcome IN ('approved', 'rejected')", name="outcome"),
        CheckConstraint("payable_fen >= 0", name="payable_not_negative"),
        CheckConstraint(f"decided_by IN ({sql_values(DecidedBy)})", name="decided_by"),
    )

    claim_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("claims.id"))
    round: Mapped[int] = mapped_column(server_default="1")
    # The Shanghai day of the decision, by the service's clock (an appeal's window counts from
    # it).
    decided_on: Mapped[date | None]
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    plan_code: Mapped[str] = mapped_column(String(64))
    plan_version: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))
    payable_fen: Mapped[int]
    # The facts decided on and the engine's explanation name diseases, grades and dates of
    # death: sealed at rest.
    facts_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    lines_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    reasons_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    facts = SealedJSON("facts_cipher", DECISION_FACTS_CONTEXT)
    lines = SealedJSON("lines_cipher", DECISION_LINES_CONTEXT)
    reasons = SealedJSON("reasons_cipher", DECISION_REASONS_CONTEXT)
    decided_by: Mapped[str] = mapped_column(String(16))
    decided_by_client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_clients.id"))
    note: Mapped[str | None] = mapped_column(Text)
    coverage_period_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("coverage_periods.id"))
