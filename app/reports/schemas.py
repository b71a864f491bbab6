from __future__ import annotations

from datetime import date

from pydantic import Field

from app.core.schemas import ResponseModel


class EnrolmentFigures(ResponseModel):
    applied: int = Field(
        description="Applications and batch rows enrolled with an application date in the range."
    )
    by_status: dict[str, int] = Field(description="The same, by their status now.")
    by_channel: dict[str, int] = Field(description="The same, by channel (app or batch).")


class CoverFigures(ResponseModel):
    active_on: date = Field(description="The range's last day.")
    active: int = Field(description="Members whose cover was in force that day (Shanghai date).")
    started: int = Field(description="Coverage periods that began within the range.")


class BenefitFigures(ResponseModel):
    benefit: str
    filed: int = Field(description="Claims filed within the range.")
    by_status: dict[str, int] = Field(description="Those claims, by their status now.")
    approved: int = Field(description="Approvals decided within the range, whenever filed.")
    approved_fen: int = Field(description="Fen those approvals made payable.")
    paid: int = Field(description="Payouts the payment channel confirmed within the range.")
    paid_fen: int = Field(description="Fen those payouts paid.")


class Summary(ResponseModel):
    from_date: date = Field(serialization_alias="from")
    to_date: date = Field(serialization_alias="to")
    enrolments: EnrolmentFigures
    cover: CoverFigures
    claims: list[BenefitFigures] = Field(
        description="One entry per benefit of the plan, in plan order."
    )
    approved_fen: int = Field(description="All benefits together.")
    paid_fen: int = Field(description="All benefits together.")
    fund: FundFigures | None = Field(
        default=None, description="The fund's money over the range, from the ledger."
    )


class AccountMovement(ResponseModel):
    account: str
    opening_fen: int = Field(description="Balance before the first day (debit positive).")
    debits_fen: int
    credits_fen: int
    closing_fen: int = Field(description="Balance after the last day (debit positive).")


class FundFigures(ResponseModel):
    """Read from the ledger: movements within the range, balances at its end."""

    premiums_received_fen: int = Field(description="Every payment received, duplicates included.")
    refunds_paid_fen: int
    benefits_approved_fen: int
    benefits_paid_fen: int = Field(description="Transfers paid, less those the bank sent back.")
    benefits_outstanding_fen: int = Field(
        description="Owed to payees at the range's end: approved, not yet paid (in transit too)."
    )
    refunds_outstanding_fen: int = Field(description="Refunds owed at the range's end.")
    fund_balance_fen: int = Field(
        description="The fund's money at the gateway at the range's end: received, less "
        "refunded, less paid out."
    )


class FundReport(ResponseModel):
    from_date: date = Field(serialization_alias="from")
    to_date: date = Field(serialization_alias="to")
    fund: FundFigures
    accounts: list[AccountMovement]


class ChannelFigures(ResponseModel):
    accepted: int = Field(
        description="Applications taken with an application date in the range (refused ones "
        "not counted)."
    )
    paid: int = Field(
        description="Applications whose premium was received within the range and bought a "
        "period of cover."
    )


class UnionEnrolmentFigures(ResponseModel):
    individual: ChannelFigures = Field(description="Its members' own applications (the app).")
    batch: ChannelFigures = Field(description="Rows its batches enrolled, whoever's member.")


class UnionPremiums(ResponseModel):
    invoices_paid: int = Field(description="Its batch invoices paid within the range.")
    paid_fen: int = Field(description="What those invoices paid.")
    refunded_fen: int = Field(
        description="Refunds of its invoices paid back within the range (rows that could not "
        "start cover, duplicate payments)."
    )


class UnionSummary(ResponseModel):
    union_org_code: str
    from_date: date = Field(serialization_alias="from")
    to_date: date = Field(serialization_alias="to")
    members: int = Field(description="Its members on the range's last day.")
    enrolments: UnionEnrolmentFigures
    cover: CoverFigures = Field(description="Its members' cover.")
    claims: list[BenefitFigures] = Field(
        description="Its members' claims, one entry per benefit of the plan, in plan order."
    )
    approved_fen: int = Field(description="All benefits together.")
    paid_fen: int = Field(description="All benefits together.")
    premiums: UnionPremiums
