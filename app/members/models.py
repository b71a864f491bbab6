from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAt, UUIDPrimaryKey
from app.core.sealing import SealedDate

DIED_ON_CONTEXT = "member.died_on"


class Member(UUIDPrimaryKey, CreatedAt, Base):
    """A covered person. ID number, name and phone are AES-GCM ciphertext; the `*_hash` columns
    are keyed HMACs for look-ups; the `*_masked` columns are what responses show."""

    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint("(union_org_code IS NULL) = (union_bound_at IS NULL)", name="union_bound"),
        # A union's members, oldest first (GET /v1/union/members).
        Index(None, "union_org_code", "union_bound_at", "id"),
    )

    id_number_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_number_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_masked: Mapped[str] = mapped_column(String(24))
    name_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    name_masked: Mapped[str] = mapped_column(String(64))
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    phone_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    phone_masked: Mapped[str] = mapped_column(String(24))
    # The union the member belongs to (a district union's org code, `app.members.districts`),
    # and since when; once bound, a member keeps it.
    union_org_code: Mapped[str | None] = mapped_column(String(64))
    union_bound_at: Mapped[datetime | None]
    union_member_number: Mapped[str | None] = mapped_column(String(64))
    # When the member joined the union through the app (`union.join`).
    union_joined_at: Mapped[datetime | None]
    sensitive_data_consent_at: Mapped[datetime]
    # The date of death, once accepted: sealed at rest like a claim's health facts.
    died_on_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    died_on = SealedDate("died_on_cipher", DIED_ON_CONTEXT)
    # When the member's identity and health facts were erased (`app.privacy.erasure`).
    erased_at: Mapped[datetime | None]


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
