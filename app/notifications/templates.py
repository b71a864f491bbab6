"""The message texts: `templates.toml`, one per kind, filled with safe values only.

A template may use only the placeholders of `Values` (a short reference, dates, the payout's
amount, the names of missing documents), written the way a Chinese reader expects; the file is
checked when first read, so a template naming anything else fails at start, not in a message.
"""

from __future__ import annotations

import string
import tomllib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources

from app.notifications.models import Kind

PLACEHOLDERS = frozenset({"ref", "starts_on", "ends_on", "paid_on", "amount", "documents"})
FALLBACK_DOCUMENT = "fallback"
MAX_CHARACTERS = 500


class TemplateError(ValueError):
    """The templates file is not what the service can send."""


@dataclass(frozen=True, slots=True)
class Values:
    """What a message may say about its event. None of it identifies a person."""

    ref: uuid.UUID | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    paid_on: date | None = None
    amount_fen: int | None = None
    documents: tuple[str, ...] = ()


@dataclass(frozen=True)
class Templates:
    texts: Mapping[Kind, str]
    documents: Mapping[str, str]

    def render(self, kind: Kind, values: Values) -> str:
        """The message for `kind`; a placeholder its values leave empty is a bug (ValueError)."""
        written = {name: self._written(name, values) for name in fields_of(self.texts[kind])}
        missing = sorted(name for name, text in written.items() if text is None)
        if missing:
            raise ValueError(f"{kind.value} needs {', '.join(missing)}")
        return self.texts[kind].format_map(written)

    def document_name(self, code: str) -> str:
        return self.documents.get(code) or self.documents[FALLBACK_DOCUMENT]

    def _written(self, name: str, values: Values) -> str | None:
        if name == "ref":
            return short_ref(values.ref) if values.ref else None
        if name == "amount":
            return yuan(values.amount_fen) if values.amount_fen is not None else None
        if name == "documents":
            names = dict.fromkeys(self.document_name(code) for code in values.documents)
            return "、".join(names) if names else None
        moment: date | None = getattr(values, name)
        return chinese_date(moment) if moment else None


def short_ref(value: uuid.UUID) -> str:
    """Eight characters of a random id: enough to find one's own record in the app."""
    return value.hex[:8].upper()


def yuan(fen: int) -> str:
    """`150000` -> `1500.00`."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def fields_of(text: str) -> list[str]:
    """The placeholders a template uses, refusing any format spec, conversion or attribute (a
    template must not reach into the values)."""
    found = []
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if spec or conversion or name not in PLACEHOLDERS:
            raise TemplateError(f"{{{name}}} is not a placeholder a message may take")
        found.append(name)
    return found


def parse(raw: str) -> Templates:
    data = tomllib.loads(raw)
    kinds = data.get("kinds", {})
    documents = data.get("documents", {})
    unknown = set(kinds) - {kind.value for kind in Kind}
    missing = {kind.value for kind in Kind} - set(kinds)
    if unknown or missing:
        raise TemplateError(f"kinds missing {sorted(missing)}, unknown {sorted(unknown)}")
    if not isinstance(documents.get(FALLBACK_DOCUMENT), str):
        raise TemplateError("[documents] needs a `fallback` name")
    for kind, text in kinds.items():
        if not isinstance(text, str) or not 0 < len(text) <= MAX_CHARACTERS:
            raise TemplateError(f"{kind}: a text of 1 to {MAX_CHARACTERS} characters")
        fields_of(text)
    return Templates({Kind(k): v for k, v in kinds.items()}, dict(documents))


@lru_cache(maxsize=1)
def templates() -> Templates:
    """The package's templates, read once."""
    raw = resources.files("app.notifications").joinpath("templates.toml").read_text("utf-8")
    return parse(raw)
