"""Shared FastAPI dependencies: the clock and the personal-data cipher from app state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.core.clock import Clock
from app.core.crypto import PersonalDataCipher


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def get_cipher(request: Request) -> PersonalDataCipher:
    cipher: PersonalDataCipher = request.app.state.cipher
    return cipher


ClockDep = Annotated[Clock, Depends(get_clock)]
CipherDep = Annotated[PersonalDataCipher, Depends(get_cipher)]
