"""Job workers run at a lower CPU priority than the API, so that on a shared host a batch takes
only the CPU the interactive requests leave; `--nice` sets how much lower."""

from __future__ import annotations

import os

import pytest

from app.cli.server import WORKER_NICENESS
from tests.support.processes import environment, running, start, wait_for

pytestmark = pytest.mark.only_backend("postgresql")


@pytest.mark.parametrize(("args", "lowered_by"), [([], WORKER_NICENESS), (["--nice", "3"], 3)])
async def test_a_worker_runs_at_a_lower_priority(settings, db, args, lowered_by):
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    worker = start(["worker", "--poll-seconds", "0.2", *args], environment(settings))

    with running(worker):

        async def lowered():
            # The process lowers itself once its settings are read.
            return os.getpriority(os.PRIO_PROCESS, worker.pid) != ours

        await wait_for(lowered, within=15)
        assert os.getpriority(os.PRIO_PROCESS, worker.pid) == min(19, ours + lowered_by)
        assert worker.poll() is None
