"""Reading a JSON upload (`{"plan_code": ..., "rows": [...]}`) as it arrives.

The top-level object is walked by hand and each value decoded on its own (`raw_decode`), so
only one row at a time is held in its decoded form; rows are checked against `BatchRowIn` a few
hundred at a time. Every problem is counted (the refusal lists the first ones, as for a body
checked whole); a syntax error refuses the file at once. A body that names `plan_code` before
`rows` (as the contract's schema orders them) is staged as it is read; one that names it after
its rows has them held until it does.

The fingerprint is the canonical form (sorted keys, no whitespace), as for any JSON request: a
client that serialises the same batch again is answered with the same batch.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from collections.abc import Generator, Iterator
from typing import Any

from pydantic import Field, TypeAdapter, ValidationError

from app.batches.schemas import MAX_ROWS, BatchRowIn
from app.batches.screening import Row
from app.batches.upload import Pull, too_many
from app.core.errors import Unprocessable
from app.core.problems import field_error
from app.core.schemas import RequestModel

MAX_ERRORS_SHOWN = 20
# Rows checked at once: fewer calls into the validator, few rows held.
_VALIDATE_ROWS = 500
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_ROWS = TypeAdapter(list[BatchRowIn])
_OBJECT_STARTS = frozenset('["-0123456789tfn')


class BatchHead(RequestModel):
    """The batch's own fields; its rows are checked one by one as they stream."""

    plan_code: str = Field(min_length=1, max_length=64)
    rows: list[Any] = Field(min_length=1)


class _Syntax(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class JsonReader:
    source = "json"

    def __init__(self, pull: Pull) -> None:
        self.plan_code: str | None = None
        self._pull = pull
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._text = ""
        self._pos = 0
        self._eof = False
        self._members: dict[str, Any] = {}
        self._row_count = 0
        self._rows_named = False
        self._rows_hash = hashlib.sha256()
        self._errors: list[dict[str, str]] = []
        self._error_count = 0

    def digest(self) -> bytes:
        head = json.dumps(self._members, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(head.encode() + b"\n" + self._rows_hash.digest()).digest()

    def rows(self) -> Iterator[Row]:
        try:
            is_object = yield from self._document()
        except _Syntax as exc:
            invalid = {"type": "json_invalid", "loc": (), "msg": f"Invalid JSON: {exc.message}"}
            raise self._refusal([invalid], 1) from None
        if not is_object:
            raise self._refusal([], self._error_count)
        head = dict(self._members)
        if self._rows_named:
            head["rows"] = [None] if self._row_count else []
        try:
            BatchHead.model_validate(head)
        except ValidationError as exc:
            for error in exc.errors(include_input=False):
                self._note(dict(error))
        if self._error_count:
            raise self._refusal([], self._error_count)

    def _refusal(self, extra: list[dict[str, Any]], count: int) -> Unprocessable:
        shown = [field_error(e) for e in extra] + self._errors
        shown = shown[:MAX_ERRORS_SHOWN]
        return Unprocessable(
            f"the file is not in the contract's shape ({count} problems; "
            f"the first {len(shown)} are listed)",
            code="invalid_batch",
            errors=shown,
        )

    def _note(self, error: dict[str, Any]) -> None:
        self._error_count += 1
        if len(self._errors) < MAX_ERRORS_SHOWN:
            self._errors.append(field_error(error))

    def _document(self) -> Generator[Row, None, bool]:
        """The rows of the body's object; returns False when the body holds another value."""
        self._skip_whitespace()
        first = self._peek()
        if first != "{":
            if first and first in _OBJECT_STARTS:
                self._note({"type": "model_type", "loc": (), "msg": "Input should be an object"})
                return False
            raise _Syntax("expected an object")
        self._pos += 1
        self._skip_whitespace()
        if self._peek() == "}":
            self._pos += 1
        else:
            yield from self._members_of_object()
        self._skip_whitespace()
        if self._peek():
            raise _Syntax("trailing characters after the object")
        return True

    def _members_of_object(self) -> Iterator[Row]:
        while True:
            if self._peek() != '"':
                raise _Syntax("expected a property name in double quotes")
            key = self._value()
            if key in self._members or (key == "rows" and self._rows_named):
                raise _Syntax(f"the property {key!r} is given twice")
            self._skip_whitespace()
            self._expect(":")
            self._skip_whitespace()
            if key == "rows" and self._peek() == "[":
                self._rows_named = True
                yield from self._rows()
            else:
                value = self._value()
                _canonical({key: value})  # no lone surrogate in what is kept
                self._members[key] = value
                if key == "plan_code" and isinstance(value, str):
                    self.plan_code = value.strip()
            self._skip_whitespace()
            end = self._take()
            if end == "}":
                return
            if end != ",":
                raise _Syntax("expected ',' or '}' after a property")
            self._skip_whitespace()

    def _rows(self) -> Iterator[Row]:
        self._pos += 1  # "["
        self._skip_whitespace()
        if self._peek() == "]":
            self._pos += 1
            return
        waiting: list[Any] = []
        while True:
            element = self._value()
            if self._row_count == MAX_ROWS:
                raise too_many()
            self._row_count += 1
            self._rows_hash.update(_canonical(element) + b"\n")
            waiting.append(element)
            if len(waiting) == _VALIDATE_ROWS:
                yield from self._checked(waiting)
                waiting = []
            self._skip_whitespace()
            end = self._take()
            if end == "]":
                break
            if end != ",":
                raise _Syntax("expected ',' or ']' after a row")
            self._skip_whitespace()
        yield from self._checked(waiting)

    def _checked(self, elements: list[Any]) -> list[Row]:
        """The rows, once checked; none once any problem is found (the file is refused, and
        the rest is read only to count its problems)."""
        first_index = self._row_count - len(elements)
        try:
            rows = _ROWS.validate_python(elements)
        except ValidationError as exc:
            for error in exc.errors(include_input=False):
                index, *rest = error["loc"]
                self._note(dict(error) | {"loc": ("rows", first_index + int(index), *rest)})
            return []
        if self._error_count:
            return []
        return [row.model_dump() for row in rows]

    # The text, read as needed.

    def _more(self) -> None:
        """Read on: at least as much again as is waiting, so that a long value is scanned a
        bounded number of times however the body is cut."""
        if self._eof:
            return
        self._text = self._text[self._pos :]
        self._pos = 0
        wanted = len(self._text)
        pieces: list[str] = []
        got = 0
        while not self._eof and (got == 0 or got < wanted):
            data = self._pull()
            self._eof = not data
            try:
                piece = self._decoder.decode(data, final=self._eof)
            except UnicodeDecodeError:
                raise _Syntax("the body is not UTF-8") from None
            pieces.append(piece)
            got += len(piece)
        self._text += "".join(pieces)

    def _peek(self) -> str:
        while self._pos >= len(self._text):
            if self._eof:
                return ""
            self._more()
        return self._text[self._pos]

    def _take(self) -> str:
        char = self._peek()
        self._pos += len(char)
        return char

    def _expect(self, char: str) -> None:
        if self._take() != char:
            raise _Syntax(f"expected {char!r}")

    def _skip_whitespace(self) -> None:
        while True:
            match = _WHITESPACE.match(self._text, self._pos)
            assert match is not None
            self._pos = match.end()
            if self._pos < len(self._text) or self._eof:
                return
            self._more()

    def _value(self) -> Any:
        """The JSON value at the position; waits for more of the body while it is cut off (a
        number or word at the end of what has arrived may go on)."""
        while True:
            try:
                value, end = _DECODER.raw_decode(self._text, self._pos)
            except json.JSONDecodeError as exc:
                if self._eof:
                    raise _Syntax(exc.msg) from None
                self._more()
                continue
            except RecursionError:
                raise _Syntax("nested too deeply") from None
            if end == len(self._text) and not self._eof:
                self._more()
                continue
            self._pos = end
            return value


def _canonical(value: Any) -> bytes:
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate (`"\\ud800"`): no text a person wrote
        raise _Syntax("a string holds a lone surrogate") from None
    except RecursionError:
        raise _Syntax("nested too deeply") from None
