"""Shared FastAPI dependencies: the process runtime, its clock and its personal-data cipher.

All `async def`, even though they only read attributes: FastAPI runs a plain `def` dependency
in a worker thread, a thread hop on every request for nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.core.clock import Clock
from app.core.crypto import PersonalDataCipher
from app.core.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.runtime.clock
    return clock


async def get_cipher(request: Request) -> PersonalDataCipher:
    cipher: PersonalDataCipher = request.app.state.runtime.cipher
    return cipher


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
ClockDep = Annotated[Clock, Depends(get_clock)]
CipherDep = Annotated[PersonalDataCipher, Depends(get_cipher)]
