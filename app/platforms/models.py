from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAt


class Platform(CreatedAt, Base):
    """A partner platform. Its API credential is encrypted like personal data."""

    __tablename__ = "platforms"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    work_types: Mapped[list[Any]] = mapped_column(JSON)
    verify_url: Mapped[str] = mapped_column(String(500))
    bulk_verify_url: Mapped[str | None] = mapped_column(String(500))
    credential_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    enabled: Mapped[bool] = mapped_column(default=True)
