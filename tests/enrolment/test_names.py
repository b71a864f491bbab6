"""A name that flips the text around it on every screen (U+202E), or that shows as nothing, is
refused: an application answers 422 naming the field (batch rows: tests/batches/test_names.py)."""

from __future__ import annotations

from tests.support.enrolment import GANSU, application, apply


async def test_an_application_with_an_unreadable_name_is_refused(http, citizen):
    flipped = await apply(http, citizen, application(GANSU, "rider-a") | {"name": "\u202e三张"})
    invisible = await apply(http, citizen, application(GANSU, "rider-a") | {"name": "\u200b\u200b"})

    for response in (flipped, invisible):
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "name"
