"""Reading a union's upload (JSON or CSV) into rows, and cutting it into encrypted chunks.

A file that is not what the contract says (wrong content type, bad JSON or CSV, missing or
unknown columns, wrong value types, no rows, too many) is refused whole with 422. A row whose
values are merely wrong is kept: the worker gives it its own outcome, so the union's valid rows
are enrolled whatever the others hold.

Repeats inside the file are found here, on the normalised ID number and on the platform account,
so that chunks can then be processed independently, in any order, by any number of workers: the
first occurrence is processed, later ones are `duplicate` (or `platform_worker_taken`).
"""

from __future__ import annotations

import csv
import io
import json
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app.batches.schemas import COLUMNS, MAX_ROWS, REF_PATTERN, REQUIRED_COLUMNS, BatchIn
from app.batches.screening import WRONG_CELL_COUNT, Row
from app.core.crypto import PersonalDataCipher
from app.core.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType
from app.core.problems import field_error
from app.rules.id_numbers import normalise

_MAX_ERRORS_SHOWN = 20
_REF = re.compile(REF_PATTERN)
# Header names echoed back in errors only when they look like column names: a file sent
# without its header row would otherwise have its first person's data echoed.
_COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_ ]{0,39}$")
ROWS_CONTEXT = "batch.rows"


@dataclass(frozen=True)
class Upload:
    plan_code: str
    source: str
    rows: list[Row]


def parse(body: bytes, content_type: str | None, plan_code: str | None) -> Upload:
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == "application/json":
        return _parse_json(body)
    if media_type in ("text/csv", "application/csv"):
        if not plan_code:
            raise Unprocessable(
                "a CSV upload names its plan in the plan_code query parameter",
                code="plan_code_required",
            )
        return Upload(plan_code, "csv", _parse_csv(body))
    raise UnsupportedMediaType("send application/json or text/csv")


def _parse_json(body: bytes) -> Upload:
    try:
        batch = BatchIn.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_input=False)
        if any(e["type"] == "too_long" and e["loc"] == ("rows",) for e in errors):
            raise _too_many() from None
        shown = [field_error(dict(e)) for e in errors[:_MAX_ERRORS_SHOWN]]
        raise Unprocessable(
            f"the file is not in the contract's shape ({len(errors)} problems; "
            f"the first {len(shown)} are listed)",
            code="invalid_batch",
            errors=shown,
        ) from None
    rows = [row.model_dump() for row in batch.rows]
    return Upload(batch.plan_code, "json", rows)


def _too_many() -> PayloadTooLarge:
    return PayloadTooLarge(f"a batch holds at most {MAX_ROWS:,} rows", code="too_many_rows")


def _parse_csv(body: bytes) -> list[Row]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unprocessable(
            f"the file is not UTF-8 (byte {exc.start})", code="invalid_encoding"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader, [])]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        unknown = [c for c in header if c not in COLUMNS]
        repeated = {c for c in header if header.count(c) > 1}
        if missing or unknown or repeated:
            raise Unprocessable(
                "the header row must name the contract's columns"
                + (
                    " (is the header row missing?)" if len(missing) == len(REQUIRED_COLUMNS) else ""
                ),
                code="invalid_header",
                missing_columns=missing,
                unknown_columns=[c for c in unknown if _COLUMN_NAME.match(c)][:20],
                repeated_columns=sorted(repeated),
            )
        rows: list[Row] = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, e.g. at the end of the file
            if len(rows) == MAX_ROWS:
                raise _too_many()
            row: Row = dict.fromkeys(COLUMNS)
            row.update(zip(header, (c.strip() for c in cells), strict=False))
            if len(cells) != len(header):
                row[WRONG_CELL_COUNT] = str(len(cells))
            if row["ref"] is not None and (len(row["ref"]) > 64 or not _REF.match(row["ref"])):
                raise Unprocessable(
                    f"row {len(rows) + 1}: ref must be at most 64 characters, none of them "
                    "control characters",
                    code="invalid_batch",
                )
            rows.append(row)
    except csv.Error as exc:
        raise Unprocessable(
            f"not a readable CSV file (line {reader.line_num}: {exc})", code="invalid_csv"
        ) from None
    if not rows:
        raise Unprocessable("the file holds no rows", code="empty_batch")
    return rows


def first_occurrences(
    rows: list[Row], well_formed: Callable[[int, Row], bool]
) -> list[tuple[int | None, int | None]]:
    """For each row, (row number of an earlier row with the same person, of an earlier row with
    the same platform account), or None. Row numbers count from 1. Only rows that pass the checks
    on their own values count as a first occurrence: a union that appends a corrected row after
    a refused one gets the corrected one enrolled."""
    people: dict[str, int] = {}
    accounts: dict[tuple[str, str], int] = {}
    marks: list[tuple[int | None, int | None]] = []
    for number, row in enumerate(rows, start=1):
        person = normalise(row.get("id_number") or "")
        account = (
            (row.get("platform_code") or "").strip(),
            (row.get("platform_worker_id") or "").strip(),
        )
        same_person, same_account = people.get(person), accounts.get(account)
        if same_person is None and same_account is None and well_formed(number, row):
            people[person] = number
            accounts[account] = number
        marks.append((same_person, same_account))
    return marks


@dataclass(frozen=True, slots=True)
class ChunkItem:
    """One uploaded row inside a chunk, with what the upload found out about it."""

    number: int  # the row's number in the file, from 1
    row: Row
    # An earlier row of the file with the same person, or with the same platform account.
    same_person_as: int | None = None
    same_account_as: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.number,
            "row": self.row,
            "same_person": self.same_person_as,
            "same_account": self.same_account_as,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChunkItem:
        return cls(data["n"], data["row"], data.get("same_person"), data.get("same_account"))


@dataclass(frozen=True)
class PreparedChunk:
    chunk_no: int
    first_row: int
    row_count: int
    rows_cipher: bytes


def chunk_context(batch_id: str, chunk_no: int) -> str:
    """Bound to the ciphertext: a chunk copied into another batch or place does not decrypt."""
    return f"{ROWS_CONTEXT}:{batch_id}:{chunk_no}"


def prepare_chunks(
    cipher: PersonalDataCipher,
    batch_id: str,
    rows: list[Row],
    size: int,
    well_formed: Callable[[int, Row], bool],
) -> Iterator[PreparedChunk]:
    marks = first_occurrences(rows, well_formed)
    for chunk_no, start in enumerate(range(0, len(rows), size)):
        items = [
            ChunkItem(start + i + 1, row, p, a).to_json()
            for i, (row, (p, a)) in enumerate(
                zip(rows[start : start + size], marks[start : start + size], strict=True)
            )
        ]
        plain = zlib.compress(json.dumps(items, ensure_ascii=False).encode(), 1)
        yield PreparedChunk(
            chunk_no,
            start + 1,
            len(items),
            cipher.encrypt_bytes(plain, context=chunk_context(batch_id, chunk_no)),
        )


def read_chunk(
    cipher: PersonalDataCipher, batch_id: str, chunk_no: int, blob: bytes
) -> list[ChunkItem]:
    plain = cipher.decrypt_bytes(blob, context=chunk_context(batch_id, chunk_no))
    return [ChunkItem.from_json(item) for item in json.loads(zlib.decompress(plain))]
