"""Who read whose personal data: every read of a member's identity, cover or claims is recorded
with the client, the member, the operation and the time, and examiners can see it
(`GET /v1/members/{id}/access-log`).

An endpoint that shows a member's data takes `ReadLogDep` and notes the members it showed; the
entries are written when the endpoint has answered, in their own short transaction (reads run
in read-only transactions), and a failure to write them fails the request: a read that cannot
be recorded is not served.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.core.cursors import oldest_first
from app.core.db import Database
from app.core.models import Base, CreatedAt, UUIDPrimaryKey
from app.core.policy import Caller


class MemberRead(UUIDPrimaryKey, CreatedAt, Base):
    """One read of one member's personal data."""

    __tablename__ = "member_reads"
    __table_args__ = (Index(None, "member_id", "created_at", "id"),)

    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_clients.id"))
    role: Mapped[str] = mapped_column(String(16))
    operation: Mapped[str] = mapped_column(String(48))


class ReadLog:
    """The reads one request made, written when it has answered."""

    def __init__(self) -> None:
        self.reads: list[MemberRead] = []

    def note(self, caller: Caller, member_ids: Iterable[uuid.UUID], operation: str) -> None:
        for member_id in dict.fromkeys(member_ids):  # once per member, in order
            self.reads.append(
                MemberRead(
                    member_id=member_id,
                    client_id=caller.client_id,
                    role=caller.role.value,
                    operation=operation,
                )
            )

    async def write(self, db: Database) -> None:
        if self.reads:
            async with db.writer() as session:
                session.add_all(self.reads)
                await session.commit()


async def read_log(request: Request) -> AsyncIterator[ReadLog]:
    log = ReadLog()
    yield log
    await log.write(request.app.state.runtime.db)


ReadLogDep = Annotated[ReadLog, Depends(read_log, scope="function")]


async def page(
    session: AsyncSession, member_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[MemberRead], str | None]:
    """A member's reads, oldest first."""
    return await oldest_first(session, MemberRead, limit, cursor, MemberRead.member_id == member_id)


class ReadOut(BaseModel):
    at: datetime
    client_id: uuid.UUID
    role: str
    operation: str = Field(description="What was read, e.g. `members.coverage`, `claims.read`.")


class ReadsPage(BaseModel):
    reads: list[ReadOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


def page_out(reads: list[MemberRead], cursor: str | None) -> ReadsPage:
    return ReadsPage(
        reads=[
            ReadOut(at=r.created_at, client_id=r.client_id, role=r.role, operation=r.operation)
            for r in reads
        ],
        next_cursor=cursor,
    )
