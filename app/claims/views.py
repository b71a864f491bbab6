"""Claims as their filers and examiners see them, and who sees which.

Examiners see every claim. A union sees the claims its service centres filed; a government app
client sees the claims it filed. Any other claim is the same 404 as one that does not exist.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import plans
from app.audit.models import AuditEvent
from app.claims.models import (
    FIRST_DECISION,
    Claim,
    ClaimDecision,
    ClaimDocument,
    ClaimStatus,
    DecidedBy,
)
from app.claims.schemas import (
    AppealOut,
    ClaimOut,
    ClaimsPage,
    DecisionOut,
    DocumentOut,
    EventIn,
    HistoryEntry,
    LineOut,
    PayoutOut,
    ReasonOut,
)
from app.core.errors import BadRequest, NotFound
from app.core.policy import Caller, Role
from app.payouts.models import PayeeKind, Payout, PayoutStatus
from app.rules.decision import Decision
from app.rules.plan import Plan


def _filer_condition(caller: Caller) -> ColumnElement[bool] | None:
    if caller.role is Role.EXAMINER:
        return None
    if caller.role is Role.UNION:
        return and_(Claim.filer_role == Role.UNION.value, Claim.filer_org_code == caller.org_code)
    return Claim.filed_by_client_id == caller.client_id


def visible_claim(caller: Caller, claim: Claim | None) -> Claim:
    if claim is None or not (
        caller.role is Role.EXAMINER
        or (
            caller.role is Role.UNION
            and caller.org_code is not None
            and claim.filer_role == Role.UNION.value
            and claim.filer_org_code == caller.org_code
        )
        or (caller.role is Role.CITIZEN_APP and claim.filed_by_client_id == caller.client_id)
    ):
        raise NotFound("claim not found", code="claim_not_found")
    return claim


def decision_out(
    decision: Decision, decided_by: DecidedBy | None, decided_at: datetime | None
) -> DecisionOut:
    return DecisionOut(
        outcome=decision.outcome.value,
        payable_fen=decision.payable_fen,
        lines=[
            LineOut(
                kind=line.kind.value,
                code=line.code,
                text=line.text,
                amount_fen=line.amount_fen,
                rule=line.rule,
            )
            for line in decision.lines
        ],
        reasons=[ReasonOut(code=r.code.value, detail=r.detail) for r in decision.reasons],
        plan_code=decision.plan_code,
        plan_version=decision.plan_version,
        decided_by=decided_by,
        decided_at=decided_at,
    )


def _stored_decision_out(row: ClaimDecision) -> DecisionOut:
    return DecisionOut.model_validate(
        {
            "outcome": row.outcome,
            "payable_fen": row.payable_fen,
            "lines": row.lines,
            "reasons": row.reasons,
            "plan_code": row.plan_code,
            "plan_version": row.plan_version,
            "decided_by": row.decided_by,
            "decided_at": row.created_at,
            "facts": row.facts,
        }
    )


def plan_of(claim: Claim) -> Plan:
    """The plan version a filed claim is decided by (that of the period its event falls in,
    kept on the claim); a claim filed before versions were kept: the one in force on the day
    of its event, else the latest."""
    if claim.plan_version is not None:
        return plans.of_record(claim.plan_code, claim.plan_version)
    plan = plans.in_force(claim.plan_code, claim.event_occurred_on)
    return plan or plans.versions(claim.plan_code)[-1]


def _missing(claim: Claim, documents: list[ClaimDocument]) -> list[str]:
    if claim.status != ClaimStatus.PENDING_DOCUMENTS:
        return []
    plan = plan_of(claim)
    given = {d.type for d in documents}
    return [t for t in plan.benefit(claim.benefit).required_documents.value if t not in given]


async def claims_out(
    session: AsyncSession, claims: list[Claim], *, history: bool = False
) -> list[ClaimOut]:
    """Claims with their documents, decisions and payouts, loaded in a few queries."""
    ids = [c.id for c in claims]
    if not ids:
        return []
    documents: dict[uuid.UUID, list[ClaimDocument]] = {i: [] for i in ids}
    for doc in (
        await session.scalars(
            select(ClaimDocument)
            .where(ClaimDocument.claim_id.in_(ids))
            .order_by(ClaimDocument.created_at, ClaimDocument.type, ClaimDocument.ref)
        )
    ).all():
        documents[doc.claim_id].append(doc)
    decisions: dict[uuid.UUID, ClaimDecision] = {}
    first_decisions: dict[uuid.UUID, ClaimDecision] = {}
    for d in (
        await session.scalars(
            select(ClaimDecision)
            .where(ClaimDecision.claim_id.in_(ids))
            .order_by(ClaimDecision.round)
        )
    ).all():
        decisions[d.claim_id] = d  # the latest: on appeal, if there is one
        first_decisions.setdefault(d.claim_id, d)
    payouts = {
        p.claim_id: p
        for p in (await session.scalars(select(Payout).where(Payout.claim_id.in_(ids)))).all()
    }
    histories: dict[uuid.UUID, list[HistoryEntry]] = {}
    if history:
        for event in (
            await session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.entity == "claim", AuditEvent.entity_id.in_([str(i) for i in ids])
                )
                .order_by(AuditEvent.created_at)
            )
        ).all():
            histories.setdefault(uuid.UUID(event.entity_id), []).append(
                HistoryEntry(
                    at=event.created_at,
                    action=event.action,
                    from_status=event.from_status,
                    to_status=event.to_status,
                )
            )
    result = []
    for claim in claims:
        result.append(
            claim_view(
                claim,
                documents[claim.id],
                decisions.get(claim.id),
                payouts.get(claim.id),
                history=histories.get(claim.id, []) if history else None,
                first_decision=first_decisions.get(claim.id),
            )
        )
    return result


def payout_out(payout: Payout, claim: Claim) -> PayoutOut:
    return PayoutOut(
        id=payout.id,
        amount_fen=payout.amount_fen,
        payee_kind=PayeeKind(payout.payee_kind),
        payee_union_org_code=payout.payee_union_org_code,
        beneficiary_name_masked=claim.beneficiary_name_masked
        if payout.payee_kind == PayeeKind.BENEFICIARY
        else None,
        status=PayoutStatus(payout.status),
        account_masked=payout.account_masked,
        paid_at=payout.paid_at,
    )


def claim_view(
    claim: Claim,
    documents: list[ClaimDocument],
    decision: ClaimDecision | None,
    payout: Payout | None,
    *,
    history: list[HistoryEntry] | None = None,
    first_decision: ClaimDecision | None = None,
) -> ClaimOut:
    appeal = None
    if claim.appealed_at is not None and first_decision is not None:
        appeal = AppealOut(
            appealed_at=claim.appealed_at,
            grounds=claim.appeal_grounds or "",
            first_decision=_stored_decision_out(first_decision),
        )
        if decision is not None and decision.round == FIRST_DECISION:
            decision = None  # the refusal under appeal is shown as the appeal's, not as final
    return ClaimOut(
        id=claim.id,
        member_id=claim.member_id,
        plan_code=claim.plan_code,
        benefit=claim.benefit,
        event=EventIn.model_construct(
            kind=claim.event_kind,  # type: ignore[arg-type]
            occurred_on=claim.event_occurred_on,
            ref=claim.event_ref,
        ),
        facts=claim.facts,
        status=ClaimStatus(claim.status),
        filed_on=claim.filed_on,
        created_at=claim.created_at,
        missing_documents=_missing(claim, documents),
        documents=[DocumentOut.model_validate(d) for d in documents],
        decision=_stored_decision_out(decision) if decision else None,
        appeal=appeal,
        payout=payout_out(payout, claim) if payout else None,
        history=history,
    )


async def claim_out(session: AsyncSession, claim: Claim, *, history: bool = False) -> ClaimOut:
    [out] = await claims_out(session, [claim], history=history)
    return out


async def get(session: AsyncSession, caller: Caller, claim_id: uuid.UUID) -> ClaimOut:
    claim = visible_claim(caller, await session.get(Claim, claim_id))
    return await claim_out(session, claim, history=True)


def _cursor(claim: Claim) -> str:
    raw = f"{claim.created_at.isoformat()}|{claim.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _parse_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        at, _, claim_id = raw.partition("|")
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment.astimezone(UTC), uuid.UUID(claim_id)
    except (ValueError, OverflowError, UnicodeDecodeError, binascii.Error) as exc:
        raise BadRequest("not a cursor this endpoint gave out", code="invalid_cursor") from exc


@dataclass(frozen=True)
class ClaimFilter:
    """Which claims a listing shows, beyond what the caller may see."""

    member_id: uuid.UUID | None = None
    status: ClaimStatus | None = None
    benefit: str | None = None
    filed_from: date | None = None
    filed_to: date | None = None

    def where(self) -> list[ColumnElement[bool]]:
        conditions = []
        if self.member_id is not None:
            conditions.append(Claim.member_id == self.member_id)
        if self.status is not None:
            conditions.append(Claim.status == self.status.value)
        if self.benefit is not None:
            conditions.append(Claim.benefit == self.benefit)
        if self.filed_from is not None:
            conditions.append(Claim.filed_on >= self.filed_from)
        if self.filed_to is not None:
            conditions.append(Claim.filed_on <= self.filed_to)
        return conditions


async def page(
    session: AsyncSession,
    caller: Caller,
    shown: ClaimFilter,
    cursor: str | None,
    limit: int,
) -> ClaimsPage:
    """Oldest first: the examiners' queue is worked from its head."""
    query = select(Claim).where(*shown.where())
    own = _filer_condition(caller)
    if own is not None:
        query = query.where(own)
    if cursor is not None:
        at, after = _parse_cursor(cursor)
        query = query.where(
            or_(Claim.created_at > at, and_(Claim.created_at == at, Claim.id > after))
        )
    found = list(
        (await session.scalars(query.order_by(Claim.created_at, Claim.id).limit(limit + 1))).all()
    )
    listed = found[:limit]
    return ClaimsPage(
        claims=await claims_out(session, listed),
        next_cursor=_cursor(listed[-1]) if len(found) > limit else None,
    )
