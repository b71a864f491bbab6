from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAt, UUIDPrimaryKey
from app.core.policy import BOUND_ROLES, Role

_ROLES = ", ".join(f"'{role.value}'" for role in Role)
_BOUND = ", ".join(f"'{role.value}'" for role in sorted(BOUND_ROLES))


class ApiClient(UUIDPrimaryKey, CreatedAt, Base):
    """A calling system. Its key is never stored, only the key's SHA-256; it is shown once."""

    __tablename__ = "api_clients"
    __table_args__ = (
        CheckConstraint(f"role IN ({_ROLES})", name="role"),
        CheckConstraint(
            f"(role IN ({_BOUND}) AND org_code IS NOT NULL)"
            f" OR (role NOT IN ({_BOUND}) AND org_code IS NULL)",
            name="binding",
        ),
        CheckConstraint("rate_limit_per_second > 0", name="rate_limit"),
    )

    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    org_code: Mapped[str | None] = mapped_column(String(64))
    key_prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    revoked_at: Mapped[datetime | None]
    # Requests a second (per API process) this client may send; None: its role's default
    # (`app.clients.rate_limit.ROLE_RATE_LIMITS`).
    rate_limit_per_second: Mapped[int | None]
