"""Claim bodies and answers (shared/design.md section 5)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.claims.models import ClaimStatus, DecidedBy
from app.core.schemas import (
    MAX_STORED_FEN,
    Day,
    PersonName,
    RequestModel,
    ResponseModel,
    Text,
)
from app.payouts.accounts import PayeeAccountIn
from app.payouts.models import PayeeKind, PayoutStatus
from app.rules.vocabulary import BENEFITS, EVENT_KINDS

Benefit = Literal[
    "hospital_allowance",
    "critical_illness",
    "critical_illness_medical",
    "illness_death",
    "accidental_death",
    "accidental_disability",
    "accident_condolence",
]
assert set(Benefit.__args__) == BENEFITS  # type: ignore[attr-defined]
EventKind = Literal["accident", "illness"]
assert set(EventKind.__args__) == EVENT_KINDS  # type: ignore[attr-defined]

REF_PATTERN = r"^[\x21-\x7e]+$"  # printable ASCII: ids of other systems, never personal data


class EventIn(RequestModel):
    kind: EventKind
    occurred_on: Day
    ref: str = Field(
        min_length=1,
        max_length=64,
        pattern=REF_PATTERN,
        description="The filer's id for the event, shared by every claim from the same accident "
        "(a disability and a later death are tied to the accident by it).",
    )


class InjuryIn(RequestModel):
    grade: int = Field(ge=1, le=10, description="JR/T 0083-2013 grade, 1 most severe.")


class FactsIn(RequestModel):
    """The facts for the claim's benefit; give exactly the ones it takes:

    - `hospital_allowance`: `admitted_on`, `discharged_on`
    - `critical_illness`: `diagnosed_on`, `disease` (a code from the plan), `severity`
    - `critical_illness_medical`: `admitted_on`, `discharged_on`, `disease`, `eligible_cost_fen`
    - `illness_death`, `accidental_death`: `died_on`
    - `accidental_disability`: `assessed_on`, `injuries`
    - `accident_condolence`: none
    """

    admitted_on: Day | None = None
    discharged_on: Day | None = None
    diagnosed_on: Day | None = None
    disease: Text | None = Field(default=None, min_length=1, max_length=64)
    severity: Literal["severe", "mild"] | None = None
    eligible_cost_fen: int | None = Field(default=None, ge=0, le=MAX_STORED_FEN)
    died_on: Day | None = None
    assessed_on: Day | None = None
    injuries: list[InjuryIn] | None = Field(default=None, min_length=1, max_length=50)


class DocumentIn(RequestModel):
    type: str = Field(
        min_length=1,
        max_length=40,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="A document type; each benefit's `required_documents` are in the plan.",
    )
    ref: str = Field(min_length=1, max_length=200, pattern=REF_PATTERN)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Lower-case hex SHA-256.")


class BeneficiaryIn(RequestModel):
    """Who receives a death benefit the plan pays to a beneficiary."""

    name: PersonName = Field(min_length=1, max_length=50)
    id_number: str = Field(min_length=1, max_length=32)


class ClaimIn(RequestModel):
    member_id: uuid.UUID
    benefit: Benefit
    event: EventIn
    facts: FactsIn = Field(default_factory=FactsIn)
    documents: list[DocumentIn] = Field(default_factory=list, max_length=50)

    @property
    def facts_free(self) -> bool:
        """A benefit that takes no facts (the condolence): the event is all there is."""
        return not any(value is not None for _, value in self.facts)

    beneficiary: BeneficiaryIn | None = Field(
        default=None,
        description="For a death benefit the plan pays to a beneficiary (or to the district "
        "union, when the member has none).",
    )
    payee_account: PayeeAccountIn | None = Field(
        default=None,
        description="Where this claim's payout goes: the beneficiary's account for a death "
        "benefit paid to a beneficiary, otherwise the member's (used instead of the account "
        "on file). Without one the member's account on file is used, or the payout waits in "
        "`awaiting_account`.",
    )


class DocumentsIn(RequestModel):
    documents: list[DocumentIn] = Field(min_length=1, max_length=50)


class ReviewIn(RequestModel):
    """`approve` with the facts as the examiner judged them (the engine computes the amount),
    or `reject` with a reason."""

    decision: Literal["approve", "reject"]
    facts: FactsIn | None = Field(
        default=None, description="For `approve`: the judged facts; default: the facts as filed."
    )
    reason: Text | None = Field(default=None, min_length=1, max_length=2000)


class AppealIn(RequestModel):
    """The filer's grounds for asking an examiner to decide a refused claim again."""

    grounds: Text = Field(min_length=1, max_length=2000)


class LineOut(BaseModel):
    kind: Literal["basis", "gross", "reduction", "payable"]
    code: str
    text: str
    amount_fen: int
    rule: str | None = Field(default=None, description="The plan key behind the number.")


class ReasonOut(BaseModel):
    code: str
    detail: str


class DecisionOut(BaseModel):
    outcome: Literal["approved", "rejected"]
    payable_fen: int
    lines: list[LineOut]
    reasons: list[ReasonOut]
    plan_code: str
    plan_version: str
    decided_by: DecidedBy | None = Field(
        default=None, description="Null on a quote: nobody decided anything."
    )
    decided_at: datetime | None = None
    facts: dict[str, object] | None = Field(
        default=None, description="The facts decided on: as filed, or as the examiner judged."
    )


class DocumentOut(ResponseModel):
    type: str
    ref: str
    sha256: str
    created_at: datetime


class PayoutOut(BaseModel):
    id: uuid.UUID
    amount_fen: int
    payee_kind: PayeeKind
    payee_union_org_code: str | None
    beneficiary_name_masked: str | None
    status: PayoutStatus
    account_masked: str | None
    paid_at: datetime | None


class HistoryEntry(BaseModel):
    at: datetime
    action: str
    from_status: str | None
    to_status: str | None


class AppealOut(BaseModel):
    appealed_at: datetime
    grounds: str
    first_decision: DecisionOut = Field(description="The refusal that was appealed.")


class ClaimOut(BaseModel):
    id: uuid.UUID
    member_id: uuid.UUID
    plan_code: str
    benefit: Benefit
    event: EventIn
    facts: dict[str, object]
    status: ClaimStatus
    filed_on: date
    created_at: datetime
    missing_documents: list[str] = Field(
        description="Required document types not yet given; the claim waits for them."
    )
    documents: list[DocumentOut]
    decision: DecisionOut | None = Field(
        description="The final decision (on an appealed claim: the decision on appeal); null "
        "while the claim waits for documents or review, or was withdrawn or expired."
    )
    appeal: AppealOut | None = Field(
        default=None, description="The claim's one appeal, with the refusal it appealed."
    )
    payout: PayoutOut | None
    history: list[HistoryEntry] | None = Field(
        default=None, description="On `GET /v1/claims/{id}` only."
    )


class ClaimsPage(BaseModel):
    claims: list[ClaimOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class QuoteOut(BaseModel):
    status: ClaimStatus = Field(description="What filing this claim now would lead to.")
    missing_documents: list[str]
    decision: DecisionOut
