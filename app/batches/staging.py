"""Cutting an upload into sealed chunks as its rows are read.

Repeats inside the file are found here, on the normalised ID number and on the platform account,
so that chunks can then be processed independently, in any order, by any number of workers: the
first occurrence is processed, later ones are `duplicate` (or `platform_worker_taken`). Only a
row that passes the checks on its own values counts as a first occurrence (a union that appends
a corrected row after a refused one gets the corrected one enrolled), so every other row is
screened here, and what screening said is sealed with it: the worker reuses it when the enabled
platforms are still those it was screened under, rather than screening every row twice.

A row is in memory only until its chunk is sealed; what is kept across the file is one entry
per person and per platform account, to find the repeats.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from app.batches.screening import Row, problems
from app.batches.upload import ChunkItem, PreparedChunk, Reader, seal_chunk
from app.core.crypto import PersonalDataCipher
from app.core.errors import ServiceError
from app.rules.id_numbers import normalise
from app.rules.plan import Plan

# A chunk is sealed once it holds this many characters of cells, even short of its rows: what
# one upload holds at a time stays small however long its rows are.
CHUNK_CHARS = 1 << 18


class Stager:
    """Rows in, sealed chunks out (`add` answers a chunk each time one is full)."""

    def __init__(
        self,
        cipher: PersonalDataCipher,
        batch_id: str,
        plan: Plan,
        platforms: dict[str, list[str]],
        applied_on: date,
        chunk_rows: int,
    ) -> None:
        self._cipher = cipher
        self._batch_id = batch_id
        self._plan = plan
        self._platforms = platforms
        self._applied_on = applied_on
        self._chunk_rows = chunk_rows
        self._people: dict[str, int] = {}
        self._accounts: dict[tuple[str, str], int] = {}
        self._items: list[ChunkItem] = []
        self._chars = 0
        self.total = 0
        self.chunk_count = 0

    def add(self, row: Row) -> PreparedChunk | None:
        self.total += 1
        self._items.append(self._item(self.total, row))
        self._chars += sum(len(value) for value in row.values() if value)
        if len(self._items) < self._chunk_rows and self._chars < CHUNK_CHARS:
            return None
        return self._seal()

    def finish(self) -> PreparedChunk | None:
        return self._seal() if self._items else None

    def _item(self, number: int, row: Row) -> ChunkItem:
        person = normalise(row.get("id_number") or "")
        account = (
            (row.get("platform_code") or "").strip(),
            (row.get("platform_worker_id") or "").strip(),
        )
        same_person, same_account = self._people.get(person), self._accounts.get(account)
        if same_person is not None or same_account is not None:
            return ChunkItem(number, row, same_person, same_account)
        codes = problems(self._plan, self._platforms, row, self._applied_on)
        if not codes:
            self._people[person] = number
            self._accounts[account] = number
        return ChunkItem(number, row, screened=codes)

    def _seal(self) -> PreparedChunk:
        chunk = seal_chunk(
            self._cipher, self._batch_id, self.chunk_count, self._items, self._platforms
        )
        self.chunk_count += 1
        self._items = []
        self._chars = 0
        return chunk


# Seals a chunk into the upload's transaction (called from the reading thread).
Stage = Callable[[PreparedChunk], None]


def stage_rows(reader: Reader, open_stager: Callable[[str], Stager], stage: Stage) -> Stager:
    """Read the whole upload, sealing and staging its chunks as they fill. Refusals of the
    plan (`open_stager` raises them) wait for the end of the file, so that a file not in the
    contract's shape is refused as such whatever plan it names."""
    staging = _Staging(reader, open_stager, stage)
    for row in reader.rows():
        staging.add(row)
    return staging.finish()


class _Staging:
    """The stager, opened once the body has named its plan; rows read before are held."""

    def __init__(self, reader: Reader, open_stager: Callable[[str], Stager], stage: Stage) -> None:
        self._reader = reader
        self._open_stager = open_stager
        self._stage = stage
        self._stager: Stager | None = None
        self._refusal: ServiceError | None = None
        self._held: list[Row] = []

    def add(self, row: Row) -> None:
        if self._stager is None and self._refusal is None and self._reader.plan_code is not None:
            self._open(self._reader.plan_code)
        if self._stager is not None:
            self._add(self._stager, row)
        elif self._refusal is None:
            self._held.append(row)

    def finish(self) -> Stager:
        if self._stager is None and self._refusal is None:
            assert self._reader.plan_code is not None  # a body without one was refused
            self._open(self._reader.plan_code)
        if self._refusal is not None:
            raise self._refusal
        assert self._stager is not None
        last = self._stager.finish()
        if last is not None:
            self._stage(last)
        return self._stager

    def _open(self, plan_code: str) -> None:
        try:
            stager = self._open_stager(plan_code)
        except ServiceError as exc:
            self._refusal = exc
            self._held = []
            return
        self._stager = stager
        for row in self._held:
            self._add(stager, row)
        self._held = []

    def _add(self, stager: Stager, row: Row) -> None:
        chunk = stager.add(row)
        if chunk is not None:
            self._stage(chunk)
