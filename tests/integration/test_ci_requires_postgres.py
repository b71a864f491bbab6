"""With CI=true a missing PostgreSQL fails the run; without it, PostgreSQL runs are skipped."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/postgres"


def run_suite_part(ci: str) -> subprocess.CompletedProcess:
    env = dict(os.environ) | {"CI": ci, "TEST_DATABASE_URL": UNREACHABLE}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/core/test_migrations.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_ci_fails_when_postgres_is_unreachable():
    result = run_suite_part("true")

    assert result.returncode != 0
    assert "PostgreSQL is required when CI=true" in result.stdout + result.stderr


def test_outside_ci_postgres_runs_are_skipped_with_the_reason():
    result = run_suite_part("")

    assert result.returncode == 0, result.stdout
    assert re.search(r"sqlite: \d+ passed; postgresql: \d+ skipped\n", result.stdout)
    assert "PostgreSQL not reachable" in result.stdout
