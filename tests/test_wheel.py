"""The built wheel is all an operator needs. Installed into a new virtualenv outside the source
tree, with no `MUTUALAID_MIGRATIONS_DIR`, `mutualaid migrate` finds the migrations it carries and
`mutualaid serve` answers `/readyz` (database at the code's revision, plan and templates loaded),
on both databases.

The new virtualenv reaches the project's dependencies through one path entry to this
virtualenv's site-packages, so nothing is downloaded; Python does not read the `.pth` files of a
directory added that way, so this checkout's editable install stays out of it and `app` is
imported from the wheel alone (the test checks where it came from).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import sysconfig
import venv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.processes import free_port, wait_until_serving
from tests.support.service import drop_database, fresh_database_url

ROOT = Path(__file__).resolve().parents[1]
# The data files the code reads at run time, read as the installed package reads them.
CARRIED = """
from app import plans
from app.notifications.templates import templates
from app.platforms.simulator import DEMO_WORKERS_FILE
assert plans.load().by_code, "no plan"
assert templates(), "no message templates"
assert DEMO_WORKERS_FILE.is_file(), DEMO_WORKERS_FILE
"""


def run(*args: object, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a command to its end; its output, or the failure with what it printed."""
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, env=env, check=False
    )
    assert done.returncode == 0, (args, done.stderr[-3000:])
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv with the wheel built from this checkout installed; its bin directory."""
    work = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip"]
    run(*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", "dist", ROOT, cwd=work)
    [wheel] = (work / "dist").glob("mutualaid-*.whl")
    venv.create(work / "venv", with_pip=False)
    python = work / "venv" / "bin" / "python"
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=work)
    (Path(site.strip()) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(*pip, "--python", python, "install", "-q", "--no-deps", wheel, cwd=work)
    return python.parent


def outside_the_tree(settings, database_url: str, var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MUTUALAID_", "PYTHON"))}
    return env | {
        "DATABASE_URL": database_url,
        "DATA_KEY": settings.data_key.get_secret_value(),
        "LOOKUP_KEY": settings.lookup_key.get_secret_value(),
        "MUTUALAID_VAR_DIR": str(var_dir),
        "MUTUALAID_IN_PROCESS_WORKER": "false",
    }


@contextmanager
def serving(bin_dir: Path, port: int, cwd: Path, env: dict[str, str]) -> Iterator[None]:
    server = subprocess.Popen(
        [bin_dir / "mutualaid", "serve", "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        server.kill()
        server.wait(timeout=10)


async def test_the_wheel_migrates_and_serves_outside_the_source_tree(
    installed, backend, settings, tmp_path
):
    database_url = await fresh_database_url(backend, tmp_path, "wheel")
    env = outside_the_tree(settings, database_url, tmp_path / "var")
    try:
        where = await asyncio.to_thread(
            run,
            installed / "python",
            "-c",
            "import app; print(app.__file__)",
            cwd=tmp_path,
            env=env,
        )
        assert where.startswith(str(installed.parent)), where
        await asyncio.to_thread(run, installed / "python", "-c", CARRIED, cwd=tmp_path, env=env)
        await asyncio.to_thread(run, installed / "mutualaid", "migrate", cwd=tmp_path, env=env)

        port = free_port()
        with serving(installed, port, tmp_path, env):
            await wait_until_serving(f"http://127.0.0.1:{port}")
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "ready"
    finally:
        await drop_database(backend, database_url)
