from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAt, UUIDPrimaryKey


class Member(UUIDPrimaryKey, CreatedAt, Base):
    """A covered person. ID number, name and phone are AES-GCM ciphertext; the `*_hash` columns
    are keyed HMACs for look-ups; the `*_masked` columns are what responses show."""

    __tablename__ = "members"

    id_number_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_number_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_masked: Mapped[str] = mapped_column(String(24))
    name_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    name_masked: Mapped[str] = mapped_column(String(64))
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    phone_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    phone_masked: Mapped[str] = mapped_column(String(24))
    union_org_code: Mapped[str | None] = mapped_column(String(64), index=True)
    union_member_number: Mapped[str | None] = mapped_column(String(64))
    union_joined_at: Mapped[datetime | None]
    sensitive_data_consent_at: Mapped[datetime]
    died_on: Mapped[date | None]


class PlatformWorker(UUIDPrimaryKey, CreatedAt, Base):
    """A member's account on a platform: how platforms ask about their workers."""

    __tablename__ = "platform_workers"
    __table_args__ = (
        UniqueConstraint("platform_code", "platform_worker_id"),
        Index(None, "member_id"),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    platform_code: Mapped[str] = mapped_column(ForeignKey("platforms.code"))
    platform_worker_id: Mapped[str] = mapped_column(String(128))
    work_type: Mapped[str] = mapped_column(String(32))
