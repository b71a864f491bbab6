"""Alembic, driven from code: `mutualaid migrate`, `serve`, readiness and the tests use this.

The migrations live in the top-level `migrations/` directory of the source tree; the wheel
carries them as `app/migrations`, so an installed copy finds them beside its code.
`MUTUALAID_MIGRATIONS_DIR` points elsewhere when an operator must.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

FILE_TEMPLATE = "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d-%%(rev)s_%%(slug)s"


def migrations_dir() -> Path:
    candidates = []
    if configured := os.environ.get("MUTUALAID_MIGRATIONS_DIR"):
        candidates.append(Path(configured))
    package = Path(__file__).resolve().parents[1]
    candidates += [package / "migrations", package.parent / "migrations", Path.cwd() / "migrations"]
    for candidate in candidates:
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("migrations/ not found; set MUTUALAID_MIGRATIONS_DIR")


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("file_template", FILE_TEMPLATE)
    config.set_main_option("timezone", "UTC")
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations. Synchronous: call it outside a running event loop (or in a thread)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)
