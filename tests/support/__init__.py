"""Test helpers, imported as `from tests.support.x import y`; conftest files hold fixtures only."""
