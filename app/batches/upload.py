"""Reading a union's upload as it arrives, and the encrypted chunks it is cut into.

The body is never held whole: a reader pulls it piece by piece (`Pull`), decodes and parses
what it has, and hands out rows one at a time, which `app.batches.staging` seals into chunks as
they come. A file that is not what the contract says (wrong content type, bad JSON or CSV,
missing or unknown columns, wrong value types, no rows, too many) is refused whole with 422 or
413, wherever in the file the problem is: the caller then rolls back whatever was staged. A row
whose values are merely wrong is kept: the worker gives it its own outcome, so the union's valid
rows are enrolled whatever the others hold.

Each reader also hashes the body as it goes, for the upload's idempotency fingerprint
(`app.batches.replays`): the bytes of a CSV file, the canonical form of a JSON one.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import pydantic_core

from app.batches.schemas import COLUMNS, MAX_ROWS, REF_PATTERN, REQUIRED_COLUMNS
from app.batches.screening import WRONG_CELL_COUNT, Row
from app.core.crypto import PersonalDataCipher
from app.core.errors import PayloadTooLarge, Unprocessable

_REF = re.compile(REF_PATTERN)
# Header names echoed back in errors only when they look like column names (`_echoable`): a
# file sent without its header row would otherwise have its first person's data echoed.
_COLUMN_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")
# No line of a contract row comes near this (each cell is at most a few dozen characters, and
# the csv module refuses any field over 128 Ki characters): a longer one is not waited for.
MAX_LINE_CHARS = 1 << 20
ROWS_CONTEXT = "batch.rows"

# The next piece of the body; b"" once it is all read.
Pull = Callable[[], bytes]


class Reader(Protocol):
    """The rows of one upload, read as they arrive."""

    source: str
    # None until the body has named it (a JSON body may name it after its rows).
    plan_code: str | None

    def rows(self) -> Iterator[Row]:
        """Each row, as the file holds it; raises the file's refusal wherever it is found."""
        ...

    def digest(self) -> bytes:
        """The body's hash, once `rows()` has been read to its end."""
        ...


def too_many() -> PayloadTooLarge:
    return PayloadTooLarge(f"a batch holds at most {MAX_ROWS:,} rows", code="too_many_rows")


class CsvReader:
    source = "csv"

    def __init__(self, pull: Pull, plan_code: str) -> None:
        self.plan_code: str | None = plan_code
        self._pull = pull
        self._hash = hashlib.sha256()
        self._read = 0

    def digest(self) -> bytes:
        return self._hash.digest()

    def rows(self) -> Iterator[Row]:
        reader = csv.reader(self._lines())
        count = 0
        try:
            header = [name.strip() for name in next(reader, [])]
            _check_header(header)
            for cells in reader:
                if not any(cell.strip() for cell in cells):
                    continue  # blank lines, e.g. at the end of the file
                if count == MAX_ROWS:
                    raise too_many()
                count += 1
                yield _row(count, header, cells)
        except csv.Error as exc:
            raise Unprocessable(
                f"not a readable CSV file (line {reader.line_num}: {exc})", code="invalid_csv"
            ) from None
        if not count:
            raise Unprocessable("the file holds no rows", code="empty_batch")

    def _lines(self) -> Iterator[str]:
        """The text's lines as `io.StringIO(text, newline="")` cuts them (at CR, LF or CRLF),
        without waiting for more of the body than the line being read."""
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        waiting: list[str] = []  # the unfinished last line, in pieces
        waiting_chars = 0
        while True:
            data = self._pull()
            text = self._decode(decoder, data)
            if data and "\n" not in text and "\r" not in text:
                waiting.append(text)
                waiting_chars += len(text)
                if waiting_chars > MAX_LINE_CHARS:
                    raise Unprocessable(
                        f"not a readable CSV file (a line longer than {MAX_LINE_CHARS:,} "
                        "characters)",
                        code="invalid_csv",
                    )
                continue
            lines = io.StringIO("".join(waiting) + text, newline="").readlines()
            waiting, waiting_chars = [], 0
            if data and lines and not lines[-1].endswith("\n"):
                # Unfinished, or a CR whose LF may come with the next piece.
                waiting = [lines.pop()]
                waiting_chars = len(waiting[0])
            yield from lines
            if not data:
                return

    def _decode(self, decoder: codecs.IncrementalDecoder, data: bytes) -> str:
        held = len(decoder.getstate()[0])
        self._hash.update(data)
        try:
            text = decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            at = self._read - held + exc.start
            raise Unprocessable(
                f"the file is not UTF-8 (byte {at})", code="invalid_encoding"
            ) from None
        self._read += len(data)
        return text


def _check_header(header: list[str]) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    repeated = {c for c in header if header.count(c) > 1}
    if missing or unknown or repeated:
        raise Unprocessable(
            "the header row must name the contract's columns"
            + (" (is the header row missing?)" if len(missing) == len(REQUIRED_COLUMNS) else ""),
            code="invalid_header",
            missing_columns=missing,
            unknown_columns=_echoable(header, unknown),
            repeated_columns=sorted(c for c in repeated if c in COLUMNS),
        )


def _echoable(header: list[str], unknown: list[str]) -> list[str]:
    """The unknown names worth showing the sender: none unless the first line names at least
    one contract column (else it is a person's row, the header left out), and only those shaped
    like a column name."""
    if not any(c in COLUMNS for c in header):
        return []
    return [c for c in unknown if _COLUMN_NAME.match(c)][:20]


def _row(number: int, header: list[str], cells: list[str]) -> Row:
    row: Row = dict.fromkeys(COLUMNS)
    row.update(zip(header, (c.strip() for c in cells), strict=False))
    if len(cells) != len(header):
        row[WRONG_CELL_COUNT] = str(len(cells))
    ref = row["ref"]
    if ref is not None and (len(ref) > 64 or not _REF.match(ref)):
        raise Unprocessable(
            f"row {number}: ref must be at most 64 characters, none of them control characters",
            code="invalid_batch",
        )
    return row


@dataclass(slots=True)  # not frozen: one is made per row, and frozen ones cost 2-3x to make
class ChunkItem:
    """One uploaded row inside a chunk, with what the upload found out about it."""

    number: int  # the row's number in the file, from 1
    row: Row
    # An earlier row of the file with the same person, or with the same platform account.
    same_person_as: int | None = None
    same_account_as: int | None = None
    # The codes screening gave the row at upload (empty: it passed), under the chunk's
    # platforms; None when it was not screened (a repeat, or a chunk from before screening
    # results were kept).
    screened: list[str] | None = None

    def to_json(self) -> dict[str, Any]:
        data = {
            "n": self.number,
            "row": self.row,
            "same_person": self.same_person_as,
            "same_account": self.same_account_as,
        }
        if self.screened is not None:
            data["screened"] = self.screened
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChunkItem:
        return cls(
            data["n"],
            data["row"],
            data.get("same_person"),
            data.get("same_account"),
            data.get("screened"),
        )


@dataclass(frozen=True)
class ReadChunk:
    items: list[ChunkItem]
    # The enabled platforms and their work types when the rows were screened; None for a chunk
    # sealed before screening results were kept.
    platforms: dict[str, list[str]] | None


@dataclass(frozen=True)
class PreparedChunk:
    chunk_no: int
    first_row: int
    row_count: int
    rows_cipher: bytes


def chunk_context(batch_id: str, chunk_no: int) -> str:
    """Bound to the ciphertext: a chunk copied into another batch or place does not decrypt."""
    return f"{ROWS_CONTEXT}:{batch_id}:{chunk_no}"


def seal_chunk(
    cipher: PersonalDataCipher,
    batch_id: str,
    chunk_no: int,
    items: list[ChunkItem],
    platforms: dict[str, list[str]],
) -> PreparedChunk:
    document = {"platforms": platforms, "items": [item.to_json() for item in items]}
    # pydantic's serialiser and parser (Rust) take a fraction of the json module's time.
    plain = zlib.compress(pydantic_core.to_json(document), 1)
    return PreparedChunk(
        chunk_no,
        items[0].number,
        len(items),
        cipher.encrypt_bytes(plain, context=chunk_context(batch_id, chunk_no)),
    )


def open_chunk(cipher: PersonalDataCipher, batch_id: str, chunk_no: int, blob: bytes) -> ReadChunk:
    plain = cipher.decrypt_bytes(blob, context=chunk_context(batch_id, chunk_no))
    document = pydantic_core.from_json(zlib.decompress(plain), cache_strings="keys")
    if isinstance(document, list):  # sealed before screening results were kept
        return ReadChunk([ChunkItem.from_json(item) for item in document], None)
    return ReadChunk(
        [ChunkItem.from_json(item) for item in document["items"]], document["platforms"]
    )


def read_chunk(
    cipher: PersonalDataCipher, batch_id: str, chunk_no: int, blob: bytes
) -> list[ChunkItem]:
    return open_chunk(cipher, batch_id, chunk_no, blob).items
