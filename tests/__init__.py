"""The test suite. Its shared helpers (tests/support) get pytest's assertion rewriting, as test
modules and conftest files do, so that a failing check in a helper shows its values."""

import pytest

pytest.register_assert_rewrite("tests.support")
