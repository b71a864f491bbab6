"""Leaving a chunk's unanswered rows to a later job, when its time budget ran out.

In one transaction, guarded by the chunk's row count (which only this step changes, and only
downwards): the rows left for later become a new chunk of the batch, with its own job, queued
behind the work already waiting; the chunk keeps the rows this run decided, which the worker
then writes as usual (`app.batches.writing`, whose claim checks the same row count). A worker
that dies in between leaves a smaller chunk that the next one simply does again; a worker that
lost its job meanwhile finds the row count changed and writes nothing. So a row is never lost
and never written twice.
"""

from __future__ import annotations

import json
import uuid
import zlib
from dataclasses import dataclass

from sqlalchemy import update

from app.batches.models import BatchChunk, BatchStatus, EnrolmentBatch
from app.batches.queueing import enqueue_chunk
from app.batches.upload import ChunkItem, chunk_context
from app.core.clock import utc_now
from app.core.crypto import PersonalDataCipher
from app.core.runtime import Runtime

# As the upload seals its chunks: the fastest compression (the rows are encrypted right after).
_COMPRESSION_LEVEL = 1


@dataclass(frozen=True)
class Split:
    """The chunk as read (`items`), and the numbers of the rows to leave for later."""

    batch_id: uuid.UUID
    chunk_no: int
    items: list[ChunkItem]
    later: set[int]


async def defer(runtime: Runtime, split: Split) -> bool:
    """Move the rows for later to a new chunk; True when this worker should now write the rest
    (False: the chunk changed under it, or nothing is left)."""
    kept = [item for item in split.items if item.number not in split.later]
    moved = [item for item in split.items if item.number in split.later]
    async with runtime.db.writer() as session:
        batch = await session.get(EnrolmentBatch, split.batch_id, with_for_update=True)
        if batch is None or batch.status in (BatchStatus.DONE.value, BatchStatus.FAILED.value):
            return False
        changed = await session.execute(
            update(BatchChunk)
            .where(
                BatchChunk.batch_id == split.batch_id,
                BatchChunk.chunk_no == split.chunk_no,
                BatchChunk.processed_at.is_(None),
                BatchChunk.rows_cipher.is_not(None),
                BatchChunk.row_count == len(split.items),
            )
            .values(
                row_count=len(kept),
                rows_cipher=seal(runtime.cipher, split.batch_id, split.chunk_no, kept)
                if kept
                else None,
                processed_at=None if kept else utc_now(),
            )
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            await session.rollback()
            return False
        new_no = batch.chunk_count
        batch.chunk_count += 1
        session.add(
            BatchChunk(
                batch_id=split.batch_id,
                chunk_no=new_no,
                first_row=moved[0].number,
                row_count=len(moved),
                rows_cipher=seal(runtime.cipher, split.batch_id, new_no, moved),
                processed_at=None,
            )
        )
        enqueue_chunk(session, split.batch_id, new_no, batch.union_org_code)
        await session.commit()
    return bool(kept)


def seal(
    cipher: PersonalDataCipher, batch_id: uuid.UUID, chunk_no: int, items: list[ChunkItem]
) -> bytes:
    """A chunk's rows as the upload seals them (`app.batches.upload.read_chunk` opens them)."""
    plain = json.dumps([item.to_json() for item in items], ensure_ascii=False).encode()
    return cipher.encrypt_bytes(
        zlib.compress(plain, _COMPRESSION_LEVEL), context=chunk_context(str(batch_id), chunk_no)
    )
