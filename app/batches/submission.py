"""Submitting a union's batch: the upload read, checked and sealed as it arrives, then stored
with one job per chunk in one transaction, and answered at once (202); workers do the rest
(`app.batches.chunks`).

Reading is CPU work (decoding, parsing, screening and encrypting 100,000 rows), so it runs in a
thread, off the event loop; the thread pulls the body's pieces and stages each sealed chunk
through the loop, one at a time. On PostgreSQL a chunk goes into the upload's transaction as
soon as it is sealed. On SQLite, whose one write lock every writer waits for, the sealed chunks
wait in a temporary file (they are ciphertext) until the file is read, and are written then.
Either way the batch, its chunks and its jobs commit together, or, when the file is refused
anywhere in it, nothing does.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, replace
from typing import IO, Any, TypeVar

from fastapi.responses import Response
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import plans
from app.audit.service import Change, record
from app.batches import replays
from app.batches.json_upload import JsonReader
from app.batches.models import BatchChunk, BatchStatus, EnrolmentBatch
from app.batches.queueing import enqueue_chunk
from app.batches.replays import UploadKey
from app.batches.service import out
from app.batches.staging import Stage, Stager, stage_rows
from app.batches.upload import CsvReader, PreparedChunk, Pull, Reader
from app.core.db import on_rollback, unit_of_work
from app.core.errors import Unprocessable, UnsupportedMediaType
from app.core.policy import Caller
from app.core.runtime import Runtime
from app.idempotency import service as idempotency_keys
from app.platforms.models import Platform

T = TypeVar("T")
S = TypeVar("S")
UPLOAD_PATH = "/v1/enrolment-batches"


@dataclass(frozen=True)
class Upload:
    key: UploadKey
    body: AsyncIterator[bytes]
    plan_code: str | None  # the query parameter (a CSV file's plan)


def reader_for(content_type: str | None, plan_code: str | None) -> Callable[[Pull], Reader]:
    """How to read a body of this media type; refused before any of the body is read."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == "application/json":
        return JsonReader
    if media_type in ("text/csv", "application/csv"):
        if not plan_code:
            raise Unprocessable(
                "a CSV upload names its plan in the plan_code query parameter",
                code="plan_code_required",
            )
        return lambda pull: CsvReader(pull, plan_code)
    raise UnsupportedMediaType("send application/json or text/csv")


async def submit(runtime: Runtime, caller: Caller, union: str, upload: Upload) -> Response:
    open_reader = reader_for(upload.key.content_type, upload.plan_code)
    lock_seconds = runtime.settings.idempotency_lock_seconds
    if await replays.answered(runtime.db, upload.key):
        reader = await in_thread(upload.body, lambda pull, _: _read_through(open_reader(pull)))
        return await replays.replay_only(runtime.db, upload.key, reader.digest(), lock_seconds)
    async with runtime.db.reader() as session:
        enabled = (await session.scalars(select(Platform).where(Platform.enabled))).all()
    platforms = {p.code: list(p.work_types) for p in enabled}
    async with unit_of_work(runtime.db.writer) as session:
        sink = _Sink(runtime, session, caller, union)
        try:
            return await _store(upload, sink, open_reader, platforms)
        finally:
            sink.discard()


async def _store(
    upload: Upload,
    sink: _Sink,
    open_reader: Callable[[Pull], Reader],
    platforms: dict[str, list[str]],
) -> Response:
    """Read and stage the upload, reserve its key, then write the batch and its jobs."""
    readers: list[Reader] = []

    def read(pull: Pull, stage: Stage) -> Stager:
        reader = open_reader(pull)
        readers.append(reader)
        return stage_rows(
            reader,
            lambda code: sink.open(code, reader.source, platforms),
            stage,
        )

    stager = await in_thread(upload.body, read, sink.stage)
    db = sink.runtime.db
    lock_seconds = sink.runtime.settings.idempotency_lock_seconds
    outcome = await replays.reserve(db, upload.key, readers[0].digest(), lock_seconds)
    if isinstance(outcome, Response):
        await sink.session.rollback()  # the same upload, stored meanwhile: its answer
        return outcome
    reservation = outcome

    async def release() -> None:
        await idempotency_keys.release(db, reservation)

    on_rollback(sink.session, release)
    batch = await sink.close(stager)
    return await replays.answer(
        sink.session, reservation, out(batch, None), 202, f"{UPLOAD_PATH}/{batch.id}"
    )


def _read_through(reader: Reader) -> Reader:
    """Read the body to its end, staging nothing: only its fingerprint is wanted."""
    for _ in reader.rows():
        pass
    return reader


_HELD_AT_ONCE = 8


@dataclass(frozen=True)
class _Held:
    """A sealed chunk waiting in the spool (its ciphertext is there, at `offset`)."""

    chunk: PreparedChunk
    offset: int
    length: int


class _Sink:
    """Where the sealed chunks go (see the module's docstring), and the batch they belong to."""

    def __init__(self, runtime: Runtime, session: AsyncSession, caller: Caller, union: str) -> None:
        self.runtime = runtime
        self.session = session
        self.caller = caller
        self.union = union
        self.batch: EnrolmentBatch | None = None
        # On SQLite, held chunks wait in a temporary file (closed by `discard`), not in memory.
        self._spool: IO[bytes] | None = (
            tempfile.TemporaryFile() if runtime.db.is_sqlite else None  # noqa: SIM115
        )
        self._held: list[_Held] = []
        self._stored = False

    def open(self, plan_code: str, source: str, platforms: dict[str, list[str]]) -> Stager:
        """The stager of the batch for this plan (called once the body has named it)."""
        if not plans.versions(plan_code):
            raise Unprocessable(f"no plan {plan_code!r}", code="plan_unknown")
        runtime = self.runtime
        today = runtime.clock.today()
        # One version for the whole batch: the one in force on the first day of cover of a new
        # member paying today (a renewal row that would start outside it is refused).
        plan = plans.book().for_payment_on(plan_code, today)
        if plan is None:
            raise Unprocessable(
                f"no version of {plan_code!r} is in force when cover would start",
                code="plan_not_in_force",
            )
        self.batch = EnrolmentBatch(
            id=uuid.uuid4(),
            union_org_code=self.union,
            created_by_client_id=self.caller.client_id,
            plan_code=plan.code,
            plan_version=plan.version,
            applied_on=today,
            source=source,
            status=BatchStatus.QUEUED.value,
            total=0,
            chunk_count=0,
            processed=0,
            accepted=0,
            rejected=0,
            duplicate=0,
            activated=0,
            refund_due=0,
        )
        return Stager(
            runtime.cipher,
            str(self.batch.id),
            plan,
            platforms,
            today,
            runtime.settings.batch_chunk_rows,
        )

    async def stage(self, chunk: PreparedChunk) -> None:
        if self._spool is None:
            await self._store([chunk])
            return
        at = self._spool.tell()
        self._spool.write(chunk.rows_cipher)
        self._held.append(_Held(replace(chunk, rows_cipher=b""), at, len(chunk.rows_cipher)))

    def discard(self) -> None:
        if self._spool is not None:
            self._spool.close()

    async def _store_held(self) -> None:
        """The held chunks, read back from the spool a few at a time."""
        await self._store([])
        if self._spool is None:
            return
        for start in range(0, len(self._held), _HELD_AT_ONCE):
            chunks = []
            for held in self._held[start : start + _HELD_AT_ONCE]:
                self._spool.seek(held.offset)
                chunks.append(replace(held.chunk, rows_cipher=self._spool.read(held.length)))
            await self._store(chunks)
        self._held = []

    async def _store(self, chunks: list[PreparedChunk]) -> None:
        assert self.batch is not None
        if not self._stored:
            self.session.add(self.batch)
            await self.session.flush()
            self._stored = True
        if chunks:
            await self.session.execute(
                insert(BatchChunk.__table__),  # type: ignore[arg-type]
                [
                    {
                        "batch_id": self.batch.id,
                        "chunk_no": c.chunk_no,
                        "first_row": c.first_row,
                        "row_count": c.row_count,
                        "rows_cipher": c.rows_cipher,
                    }
                    for c in chunks
                ],
            )

    async def close(self, stager: Stager) -> EnrolmentBatch:
        """The held chunks written, the batch's totals set, one job per chunk, the audit."""
        await self._store_held()
        batch = self.batch
        assert batch is not None
        batch.total = stager.total
        batch.chunk_count = stager.chunk_count
        for chunk_no in range(stager.chunk_count):
            enqueue_chunk(self.session, batch.id, chunk_no, self.union)
        record(
            self.session,
            Change(
                entity="enrolment_batch",
                entity_id=batch.id,
                action="created",
                client_id=self.caller.client_id,
                to_status=BatchStatus.QUEUED.value,
                details={"rows": batch.total, "source": batch.source, "union": self.union},
            ),
        )
        await self.session.flush()
        return batch


async def in_thread(
    body: AsyncIterator[bytes],
    work: Callable[[Pull, Stage], T],
    stage: Callable[[PreparedChunk], Coroutine[Any, Any, None]] | None = None,
) -> T:
    """Run `work` in a thread with the body to pull and a way to stage chunks, both served by
    this event loop (the thread waits for each)."""
    loop = asyncio.get_running_loop()
    abandoned = threading.Event()

    def wait_for(step: Coroutine[Any, Any, S]) -> S:
        if abandoned.is_set():  # the request is gone: stop reading
            step.close()
            raise asyncio.CancelledError
        return asyncio.run_coroutine_threadsafe(step, loop).result()

    async def next_piece() -> bytes:
        async for piece in body:
            if piece:
                return piece
        return b""

    def pull() -> bytes:
        return wait_for(next_piece())

    def stage_chunk(chunk: PreparedChunk) -> None:
        assert stage is not None
        wait_for(stage(chunk))

    try:
        return await asyncio.to_thread(work, pull, stage_chunk)
    finally:
        abandoned.set()
