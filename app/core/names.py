"""A person's name as people will read it on every screen: no direction controls, and not
made only of characters nobody sees.

A name starting with U+202E (right-to-left override) flips the text after it wherever it is
shown, including in the lists of another union or an examiner; a name of zero-width spaces
shows as nothing. Both are refused wherever a name comes in (applications, batch rows,
beneficiaries, account holders, look-ups)."""

from __future__ import annotations

import unicodedata

# The Unicode bidirectional controls (embeddings, overrides, isolates and marks).
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _invisible(char: str) -> bool:
    # Format characters (zero-width space and joiners, BOM, ...), controls and separators.
    return unicodedata.category(char) in {"Cf", "Cc", "Zs", "Zl", "Zp"} or char.isspace()


def name_problem(value: str) -> str | None:
    """Why this is not a name people can read, or None."""
    if any(char in BIDI_CONTROLS for char in value):
        return "contains direction-control characters"
    if all(_invisible(char) for char in value):
        return "has no visible character"
    return None


def readable_name(value: str) -> str:
    """A validator: the name, or ValueError saying what is wrong with it."""
    problem = name_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value
