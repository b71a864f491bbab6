"""Plan versions made up for tests, never shipped: the shipped Shanghai plan ended on
31 December 2026, and a next version from 1 January 2027 that pays ¥120 a hospital day (not ¥100)
for a premium of ¥84 (not ¥72). Both are written from the shipped file's text with a few values
changed, so they follow it when it changes; a test loads them through `MUTUALAID_PLANS_DIR`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from importlib import resources
from pathlib import Path

from app import plans

CODE = "shanghai-new-employment-e"
SHIPPED_TEXT = (resources.files("app.plans") / f"{CODE}.toml").read_text("utf-8")
SHIPPED_VERSION = "2026.1"
SHIPPED_ENDS = date(2026, 12, 31)
NEXT_VERSION = "2027.1"
NEXT_STARTS = date(2027, 1, 1)
NEXT_PREMIUM_FEN = 8400
NEXT_DAILY_RATE_FEN = 12_000
SHIPPED_DAILY_RATE_FEN = 10_000

_ENDS = "effective_to = { value = 2099-12-31, confirmed = false }"
_STARTS = "effective_from = { value = 2023-07-01, confirmed = false }"


def edited(text: str, *changes: tuple[str, str]) -> str:
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def shipped_ending(on: date = SHIPPED_ENDS) -> str:
    """The shipped version, word for word, but ending on `on`."""
    return edited(SHIPPED_TEXT, (_ENDS, f"effective_to = {{ value = {on}, confirmed = false }}"))


def next_version(
    starts: date = NEXT_STARTS, version: str = NEXT_VERSION, *changes: tuple[str, str]
) -> str:
    return edited(
        SHIPPED_TEXT,
        (f'version = "{SHIPPED_VERSION}"', f'version = "{version}"'),
        (_STARTS, f"effective_from = {{ value = {starts}, confirmed = false }}"),
        (
            "premium_fen = { value = 7200, confirmed = true }",
            f"premium_fen = {{ value = {NEXT_PREMIUM_FEN}, confirmed = false }}",
        ),
        (
            "daily_rate_fen = { value = 10000, confirmed = false }",
            f"daily_rate_fen = {{ value = {NEXT_DAILY_RATE_FEN}, confirmed = false }}",
        ),
        *changes,
    )


def plans_dir(directory: Path, **files: str) -> Path:
    """`directory` holding each given file text as `<name>.toml`."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / f"{name}.toml").write_text(text, encoding="utf-8")
    return directory


def two_versions(directory: Path) -> Path:
    """The shipped version ending on 31 December 2026, and the next from 1 January 2027."""
    return plans_dir(directory, shipped=shipped_ending(), next_year=next_version())


@contextmanager
def shipped_book_after() -> Iterator[None]:
    """Put the shipped plan book back afterwards: an app built with `MUTUALAID_PLANS_DIR`
    installs its book for the whole process."""
    try:
        yield
    finally:
        plans.install(plans.shipped_book())
