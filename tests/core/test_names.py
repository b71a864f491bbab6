"""Names people can read: no direction controls, at least one visible character."""

from __future__ import annotations

import pytest

from app.core.names import name_problem


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("张三", None),
        ("阿卜杜拉·艾买提", None),
        ("Zhang San", None),
        ("\u202e三张", "contains direction-control characters"),
        ("张\u2066三", "contains direction-control characters"),
        ("\u200f", "contains direction-control characters"),
        ("\u200b\u200b", "has no visible character"),
        ("\ufeff \u3000", "has no visible character"),
    ],
)
def test_names_that_would_flip_or_vanish_on_screen_are_refused(name, problem):
    assert name_problem(name) == problem
