"""A condolence paid for an accident, then a disability from the same accident: the disability
pays its grade's amount less the condolence, and the condolence moves from its own counter to
the disability's (it used to fail with a 500: the counter's upsert tried to insert a negative
amount)."""

from __future__ import annotations

from datetime import date

from tests.support.claims import claim, coverage, filed, review, used


async def test_a_disability_after_the_condolence_absorbs_it(http, covered, citizen, examiner):
    [rider] = await covered()
    condolence = await filed(
        http, citizen, claim(rider, "accident_condolence", "accident", date(2026, 5, 5), "fall")
    )
    disability = await filed(
        http,
        citizen,
        claim(
            rider,
            "accidental_disability",
            "accident",
            date(2026, 5, 5),
            "fall",
            assessed_on=date(2026, 6, 6),
            injuries=[{"grade": 7}],
        ),
    )

    decided = await review(http, examiner, disability["id"], decision="approve")
    period = await coverage(http, citizen, rider)

    assert condolence["decision"]["payable_fen"] == 50_000
    # Grade 7: 40% of 600,000 yuan, less the 500 yuan condolence already paid.
    assert (decided["status"], decided["decision"]["payable_fen"]) == ("approved", 23_950_000)
    assert used(period, "accident_condolence") == 0
    assert used(period, "accidental_disability") == 24_000_000
    assert period["ceiling"]["used_fen"] == 24_000_000
