"""No Docker engine runs here, so check what can be checked without building."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def copied_sources() -> list[str]:
    sources = []
    for line in DOCKERFILE.splitlines():
        match = re.match(r"^COPY\s+(?!--from)(.+)$", line.strip())
        if match:
            *srcs, _dest = match.group(1).split()
            sources += srcs
    return sources


def test_every_path_the_dockerfile_copies_exists():
    sources = copied_sources()
    assert "app" in sources
    assert "migrations" in sources
    for source in sources:
        assert (ROOT / source).exists(), source


def test_nothing_copied_is_excluded_by_dockerignore():
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert not ignored & set(copied_sources())


def test_the_image_is_multi_stage_slim_non_root_and_health_checked():
    stages = re.findall(r"^FROM\s+(\S+)", DOCKERFILE, flags=re.MULTILINE)
    assert len(stages) >= 2
    assert all("slim" in image for image in stages)
    assert re.search(r"^USER\s+(?!root)\w+", DOCKERFILE, flags=re.MULTILINE)
    assert "HEALTHCHECK" in DOCKERFILE
    assert "/healthz" in DOCKERFILE
    assert 'CMD ["mutualaid", "serve"' in DOCKERFILE


def test_the_image_runs_in_production_mode():
    # Development mode would generate keys inside the container and lose them on restart.
    assert "MUTUALAID_ENV=production" in DOCKERFILE


def test_the_image_installs_the_wheel_and_nothing_beside_it():
    """What runs is what the wheel carries (migrations and data included), as tests/test_wheel.py
    checks outside the tree: no source directory is copied into the runtime stage."""
    build, runtime = DOCKERFILE.split("\nFROM ", 2)[1:]
    assert "pip wheel" in build
    assert re.search(r"pip install \S*\.whl", build)
    assert not re.findall(r"^COPY\s+(?!--from)", runtime, flags=re.MULTILINE)
    assert "MUTUALAID_MIGRATIONS_DIR" not in DOCKERFILE
