"""What every API client meets: problem responses (RFC 9457), and the `mutualaid` command run as
a real process against a test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROBLEM = "application/problem+json"
MUTUALAID = str(Path(sys.executable).with_name("mutualaid"))


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:mutualaid:problem:{code}"
    assert body["title"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def run_cli(settings, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(settings.var_dir),
        "DATABASE_URL": settings.database_url,
        "MUTUALAID_VAR_DIR": str(settings.var_dir),
        "MUTUALAID_LOG_LEVEL": "WARNING",
    } | (env or {})
    return subprocess.run(
        [MUTUALAID, *args], capture_output=True, text=True, env=environment, timeout=60, check=False
    )
