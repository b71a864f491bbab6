"""Matching a bill against our records, pure: the differences, each with its kind.

Both sides are reduced to entries keyed by (kind, our_ref) carrying the total amount and the
number of lines: a premium paid twice is two `payment` lines for one order, a transfer paid then
returned is a positive and a negative `transfer` line. Our side also says, per reference, what we
believe happened (`paid`, `failed`, ...), so a bill line for money we hold as not moved is a
`status_mismatch`, not a plain amount difference.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class DifferenceKind(StrEnum):
    MISSING_HERE = "missing_here"  # on the bill, not in our records
    MISSING_THERE = "missing_there"  # in our records, not on the bill
    AMOUNT_MISMATCH = "amount_mismatch"
    STATUS_MISMATCH = "status_mismatch"  # the gateway moved money we hold as not moved


@dataclass(frozen=True, slots=True)
class Entry:
    """One side's view of one reference on one day."""

    kind: str
    our_ref: str
    amount_fen: int
    lines: int = 1
    gateway_ref: str | None = None


@dataclass(frozen=True, slots=True)
class Difference:
    kind: DifferenceKind
    line_kind: str
    our_ref: str
    bill_fen: int | None
    ours_fen: int | None
    gateway_ref: str | None = None


Key = tuple[str, str]


def totals(entries: Iterable[Entry]) -> dict[Key, Entry]:
    """Entries of the same (kind, our_ref) added up."""
    summed: dict[Key, Entry] = {}
    for entry in entries:
        key = (entry.kind, entry.our_ref)
        known = summed.get(key)
        summed[key] = (
            entry
            if known is None
            else Entry(
                entry.kind,
                entry.our_ref,
                known.amount_fen + entry.amount_fen,
                known.lines + entry.lines,
                known.gateway_ref or entry.gateway_ref,
            )
        )
    return summed


def match(
    bill: Iterable[Entry],
    ours: Iterable[Entry],
    not_moved: Mapping[Key, str] | None = None,
) -> list[Difference]:
    """The differences between the bill and our records of the same day, in a stable order.

    `not_moved` names references we know of but hold as not having moved money that day (a
    transfer we recorded as failed, say), with our status: the bill showing them is a
    `status_mismatch`.
    """
    billed, recorded = totals(bill), totals(ours)
    not_moved = not_moved or {}
    differences: list[Difference] = []
    for key, line in billed.items():
        mine = recorded.get(key)
        if mine is None:
            kind = (
                DifferenceKind.STATUS_MISMATCH if key in not_moved else DifferenceKind.MISSING_HERE
            )
            differences.append(
                Difference(kind, key[0], key[1], line.amount_fen, None, line.gateway_ref)
            )
        elif mine.amount_fen != line.amount_fen or mine.lines != line.lines:
            differences.append(
                Difference(
                    DifferenceKind.AMOUNT_MISMATCH,
                    key[0],
                    key[1],
                    line.amount_fen,
                    mine.amount_fen,
                    line.gateway_ref,
                )
            )
    for key, mine in recorded.items():
        if key not in billed:
            differences.append(
                Difference(DifferenceKind.MISSING_THERE, key[0], key[1], None, mine.amount_fen)
            )
    return sorted(differences, key=lambda d: (d.kind.value, d.line_kind, d.our_ref))
