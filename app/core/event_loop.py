"""The event loop the service's own processes run on.

uvicorn runs the API on uvloop (installed with `uvicorn[standard]`); the job worker and the
CLI's database commands run here on the same loop. A batch chunk sends a thousand rows' worth of
COPY data and reads the platform's answers through the loop's transports, which cost about a
tenth of a worker's CPU on asyncio's own selector loop. Where uvloop is not installed (it
does not build on Windows), asyncio's loop does the same work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] installs it wherever it builds
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`, on uvloop where it is installed."""
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(main)
