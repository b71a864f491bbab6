"""The matcher alone: each kind of difference, and what is not one."""

from __future__ import annotations

from app.reconciliation.matching import DifferenceKind, Entry, match

PAID = Entry("payment", "order-1", 7200)
TRANSFER = Entry("transfer", "t-1", 50_000)


def kinds(differences) -> list[tuple[str, str]]:
    return [(d.kind.value, d.our_ref) for d in differences]


def test_the_same_records_on_both_sides_match():
    assert match([PAID, TRANSFER], [TRANSFER, PAID]) == []


def test_each_side_missing_a_line():
    assert kinds(match([PAID], [TRANSFER])) == [
        ("missing_here", "order-1"),
        ("missing_there", "t-1"),
    ]


def test_a_wrong_amount_is_an_amount_mismatch_with_both_amounts():
    [difference] = match([Entry("payment", "order-1", 7000)], [PAID])
    assert (difference.kind, difference.bill_fen, difference.ours_fen) == (
        DifferenceKind.AMOUNT_MISMATCH,
        7000,
        7200,
    )


def test_a_duplicate_payment_is_two_lines_on_both_sides_or_a_difference():
    assert match([PAID, PAID], [PAID, PAID]) == []
    assert kinds(match([PAID, PAID], [PAID])) == [("amount_mismatch", "order-1")]


def test_a_transfer_paid_and_returned_the_same_day_nets_to_nothing_on_both_sides():
    returned = Entry("transfer", "t-1", -50_000)
    assert match([TRANSFER, returned], [TRANSFER, returned]) == []


def test_money_moved_for_what_we_hold_as_failed_is_a_status_mismatch():
    differences = match([TRANSFER], [], {("transfer", "t-1"): "failed"})
    assert kinds(differences) == [("status_mismatch", "t-1")]
