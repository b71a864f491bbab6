"""Deleting what has expired in small steps, each its own short transaction.

One DELETE of everything expired holds its row locks and its transaction for as long as it
runs, and leaves a table's worth of dead rows at once for the vacuum to find; on a busy day the
idempotency keys alone are hundreds of thousands of rows. In steps of `STEP` rows the API's
transactions wait for no purge longer than one step, and the vacuum can keep up behind it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import ColumnElement, delete, select, tuple_

from app.core.db import Database

STEP = 1_000


async def delete_in_steps(
    db: Database, model: type[Any], where: ColumnElement[bool], step: int = STEP
) -> int:
    """Delete `model`'s rows matching `where`, `step` at a time by primary key; how many."""
    keys = list(model.__table__.primary_key.columns)
    key = keys[0] if len(keys) == 1 else tuple_(*keys)
    deleted = 0
    while True:
        chosen = select(*keys).where(where).limit(step)
        async with db.writer() as session:
            result = await session.execute(delete(model).where(key.in_(chosen)))
            await session.commit()
        count = int(result.rowcount)  # type: ignore[attr-defined]
        deleted += count
        if count < step:
            return deleted
        await asyncio.sleep(0)  # let the process's other work in between steps
