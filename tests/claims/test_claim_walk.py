"""The walk of a claim through the code: load, decide, record, and never back.

The request runs in process under a profiler that records, for every call into a file of `app/`
made while the endpoint runs, the nearest calling file of `app/`. The files and those calls form
a graph; a file calling back into one that (directly or not) called it is a cycle, and fails.
`pytest tests/claims/test_claim_walk.py -s` prints the hops in the order first taken.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from tests.support.claims import claim, file, filed
from tools.import_graph import cycles

APP = Path(__file__).resolve().parents[2] / "app"


def _where(frame: FrameType) -> str | None:
    path = Path(frame.f_code.co_filename)
    if not path.is_relative_to(APP):
        return None
    relative = path.relative_to(APP)
    # The rules core is one stop: its modules calling each other is its own affair.
    return "rules/" if relative.parts[0] == "rules" else str(relative)


@contextmanager
def traced(endpoint: str) -> Iterator[list[tuple[str, str]]]:
    """Every (caller `file:function`, callee `file:function`) between files of `app/`, made
    while `endpoint` (a function of `app/`) is on the stack."""
    hops: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()

    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        if event != "call" or (callee := _where(frame)) is None:
            return
        caller_frame, inside = frame.f_back, False
        caller = None
        while caller_frame is not None:
            where = _where(caller_frame)
            if caller is None and where is not None:
                caller = (where, caller_frame.f_code.co_name)
            if caller_frame.f_code.co_name == endpoint:
                inside = True
                break
            caller_frame = caller_frame.f_back
        if not inside or caller is None or caller[0] == callee:
            return
        hop = (f"{caller[0]}:{caller[1]}", f"{callee}:{frame.f_code.co_name}")
        if hop not in seen:
            seen.add(hop)
            hops.append(hop)

    sys.setprofile(profile)
    threading.setprofile(profile)
    try:
        yield hops
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]


def _file_cycles(hops: list[tuple[str, str]]) -> list[list[str]]:
    edges: dict[str, set[str]] = {}
    for caller, callee in hops:
        edges.setdefault(caller.split(":")[0], set()).add(callee.split(":")[0])
        edges.setdefault(callee.split(":")[0], set())
    return cycles(edges)


def _show(title: str, hops: list[tuple[str, str]]) -> None:
    print(f"\n{title}")
    for caller, callee in hops:
        print(f"  {caller} -> {callee}")


async def test_filing_a_claim_walks_load_decide_record_and_never_back(http, covered, citizen):
    [member] = await covered()
    body = claim(
        member,
        "hospital_allowance",
        "accident",
        date(2026, 9, 1),
        "walk-1",
        admitted_on=date(2026, 9, 1),
        discharged_on=date(2026, 9, 4),
    )
    with traced("file_claim") as hops:
        response = await file(http, citizen, body)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "approved"
    _show("POST /v1/claims", hops)
    # The three stops, in order: load, decide, record (with the usage it consumes).
    stops = [
        ("claims/filing.py:file", "claims/context.py:for_filing"),
        ("claims/filing.py:_assess", "rules/:assess"),
        ("claims/filing.py:file", "claims/recording.py:record_filed"),
        ("claims/recording.py:record_decision", "coverage/usage.py:consume"),
    ]
    taken = [hops.index(stop) for stop in stops]
    assert taken == sorted(taken)
    # Once loaded, the context is a value: nothing calls back into the file that loaded it.
    assert not [h for h in hops if h[1].startswith("claims/context.py") and "filing" not in h[0]]
    assert _file_cycles(hops) == []


@pytest.mark.only_backend("sqlite")
async def test_a_death_reviewed_walks_on_to_the_end_of_cover_and_never_back(
    http, covered, citizen, examiner
):
    [member] = await covered()
    body = claim(member, "illness_death", "illness", date(2026, 9, 1), "walk-2")
    body["facts"] = {"died_on": "2026-09-01"}
    pending = await filed(http, citizen, body)
    assert pending["status"] == "pending_review"
    with traced("review_claim") as hops:
        response = await http.post(
            f"/v1/claims/{pending['id']}/review", json={"decision": "approve"}, headers=examiner
        )
    assert response.status_code == 200, response.text
    _show("POST /v1/claims/{id}/review (a death)", hops)
    files = {hop[1].split(":")[0] for hop in hops}
    assert {"coverage/endings.py", "webhooks/outbox.py"} <= files
    assert _file_cycles(hops) == []
