"""The README's walkthrough runs exactly as written: `examples/walkthrough.sh` is run whole, as a
newcomer runs it (bash, curl, openssl; its own `mutualaid serve`, platform and gateway
simulators), on the suite's empty database, and ends with the claims paid.
Every value the README promises after a `pick ... #` is the value printed, and every section
of the script is a code block of the README, character for character."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.ledger.service import unbalanced_entries
from app.payouts.models import Payout
from tests.support.processes import ROOT, environment, free_port

SCRIPT = ROOT / "examples" / "walkthrough.sh"
README = ROOT / "README.md"
SECTION = re.compile(r"^## (\w+)\n", re.MULTILINE)
PROMISE = re.compile(r"^pick .*#\s*(?P<value>.+)$")


def _walk(env: dict[str, str]) -> tuple[int, str, str]:
    """Run the script in a process group of its own, so that a run that hangs is stopped with
    everything it started."""
    run = subprocess.Popen(
        ["bash", str(SCRIPT)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = run.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)
        out, err = run.communicate()
        return -1, out, f"the walkthrough did not finish\n{err}"
    return run.returncode, out, err


def _log_tail(var_dir: Path) -> str:
    log = Path(var_dir, "walkthrough.log")
    return log.read_text(encoding="utf-8")[-3000:] if log.exists() else ""


def sections(script: str) -> dict[str, str]:
    """The script's sections: each `## name` line and what follows, up to the next."""
    _, *parts = SECTION.split(script)
    names, bodies = parts[0::2], parts[1::2]
    return {name: body.strip("\n") + "\n" for name, body in zip(names, bodies, strict=True)}


def promises(script: str) -> list[str]:
    return [m["value"].strip() for line in script.splitlines() if (m := PROMISE.match(line))]


def test_the_readme_shows_every_section_of_the_script_as_it_is():
    script = SCRIPT.read_text(encoding="utf-8")
    shown = re.findall(r"^```sh\n(.*?)^```$", README.read_text(encoding="utf-8"), re.S | re.M)
    parts = sections(script)

    assert list(parts) == ["start", "enrol", "batch", "claims"]
    for name, body in parts.items():
        assert body in shown, f"the README does not show the section {name!r} as the script has it"
    # Nothing runs outside the sections but the header's `set`.
    header = script[: script.index("## start\n")]
    commands = [line for line in header.splitlines() if line and not line.startswith("#")]
    assert commands == ["set -euo pipefail"]
    assert len(promises(script)) >= 20


# On SQLite only, to keep the suite's time: the script runs as well on PostgreSQL (with a job
# worker of its own), in about twice the time.
@pytest.mark.only_backend("sqlite")
@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "curl", "openssl")),
    reason="the walkthrough needs bash, curl and openssl",
)
async def test_the_walkthrough_ends_with_the_claims_paid(settings, db):
    env = environment(settings) | {
        "PORT": str(free_port()),
        "PLATFORM_PORT": str(free_port()),
        "GATEWAY_PORT": str(free_port()),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    env.pop("MUTUALAID_CLOCK", None)
    env.pop("MUTUALAID_GATEWAY_URL", None)
    returncode, out, err = await asyncio.to_thread(_walk, env)
    assert returncode == 0, f"{out}\n{err}\n{_log_tail(settings.var_dir)}"

    printed = out.splitlines()
    for promised in promises(SCRIPT.read_text(encoding="utf-8")):
        assert promised in printed, (promised, printed)
        printed = printed[printed.index(promised) + 1 :]
    assert out.splitlines()[-1] == "paid"
    async with db.reader() as session:
        paid = await session.scalar(
            select(func.count()).select_from(Payout).where(Payout.status == "paid")
        )
        assert paid >= 2 + 2  # the walkthrough's two, and the demo world's two
        assert await unbalanced_entries(session) == 0
