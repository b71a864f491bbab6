"""The ledger's tables: entries (one movement, what caused it) and their lines. Insert only."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAt, UUIDPrimaryKey, sql_values
from app.ledger.postings import Account, Movement


class LedgerEntry(UUIDPrimaryKey, CreatedAt, Base):
    """One movement of money, and the record that caused it (a payment order, a refund, a
    payout). A correction is a new entry, never an edit."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint(f"movement IN ({sql_values(Movement)})", name="movement"),
        Index(None, "source_kind", "source_id"),
        Index(None, "created_at"),
    )

    movement: Mapped[str] = mapped_column(String(32))
    source_kind: Mapped[str] = mapped_column(String(24))
    source_id: Mapped[uuid.UUID]
    member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"))


class LedgerLine(UUIDPrimaryKey, CreatedAt, Base):
    """One side of an entry: an account and a signed amount (debit positive)."""

    __tablename__ = "ledger_lines"
    __table_args__ = (
        CheckConstraint(f"account IN ({sql_values(Account)})", name="account"),
        CheckConstraint("amount_fen <> 0", name="amount_nonzero"),
        Index(None, "account", "created_at"),
        Index(None, "entry_id"),
    )

    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_entries.id"))
    account: Mapped[str] = mapped_column(String(24))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
