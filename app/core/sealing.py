"""Health facts sealed at rest: a model attribute whose value lives encrypted in a binary column.

A claim's facts (diseases, grades, dates of death) and a decision's explanation are read and
written by the code as plain attribute values, but the database holds only ciphertext, sealed
with the personal-data key like identities (so `mutualaid keys reencrypt` moves them at a
rotation: their columns are in `app.keys.columns`). The cipher is the session's: every session
of a runtime's database carries it (`install`). A value is opened when its row is loaded or
refreshed, and sealed when a new row is flushed, so nothing else changes for the code that uses
it. Rows that hold sealed values are written once (claims keep their facts as filed, decisions
are never updated): a value set on a row already stored is sealed only if the flush also
changes one of the row's columns.

    class Claim(Base):
        facts_cipher: Mapped[bytes] = mapped_column(LargeBinary)
        facts = SealedJSON("facts_cipher", "claim.facts")
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import QueryContext, Session, UOWTransaction
from sqlalchemy.orm.attributes import flag_modified

from app.core.crypto import PersonalDataCipher

CIPHER = "personal_data_cipher"
# Sealed attributes by model class, filled as models are defined.
_SEALED: dict[type, list[SealedJSON]] = {}


class SealedJSON:
    """A JSON value stored sealed in the binary column `column`, under associated data
    `context`."""

    def __init__(self, column: str, context: str) -> None:
        self.column = column
        self.context = context

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self._value = f"_sealed_{name}"
        self._changed = f"_sealed_{name}_changed"
        _SEALED.setdefault(owner, []).append(self)
        if not event.contains(owner, "load", _open_loaded):
            event.listen(owner, "load", _open_loaded, propagate=True)
            event.listen(owner, "refresh", _open_refreshed, propagate=True)

    def __get__(self, instance: object | None, owner: type) -> Any:
        if instance is None:
            return self
        try:
            return instance.__dict__[self._value]
        except KeyError:
            raise AttributeError(f"{self.name} was not opened: the row was not loaded") from None

    def __set__(self, instance: object, value: Any) -> None:
        instance.__dict__[self._value] = value
        instance.__dict__[self._changed] = True
        if inspect(instance).persistent:  # a stored row: the flush must visit it
            flag_modified(instance, self.column)

    def dump(self, value: Any) -> Any:
        """The value as JSON holds it."""
        return value

    def load(self, value: Any) -> Any:
        return value

    def sealed(self, value: Any, cipher: PersonalDataCipher) -> bytes | None:
        """`value` as this attribute stores it (None stays None): for a bulk statement that
        bypasses the ORM."""
        if value is None:
            return None
        return cipher.encrypt(
            json.dumps(self.dump(value), ensure_ascii=False), context=self.context
        )

    def seal(self, instance: object, cipher: PersonalDataCipher) -> None:
        if instance.__dict__.pop(self._changed, False):
            setattr(instance, self.column, self.sealed(instance.__dict__[self._value], cipher))

    def opened(self, blob: bytes | None, cipher: PersonalDataCipher) -> Any:
        """What a stored value holds (None stays None): for rows read without the ORM."""
        if blob is None:
            return None
        return self.load(json.loads(cipher.decrypt(blob, context=self.context)))

    def open(self, instance: object, cipher: PersonalDataCipher) -> None:
        instance.__dict__[self._value] = self.opened(getattr(instance, self.column), cipher)
        instance.__dict__.pop(self._changed, None)


class SealedDate(SealedJSON):
    """A calendar date (a date of death), sealed like any other value."""

    def dump(self, value: Any) -> Any:
        assert isinstance(value, date)
        return value.isoformat()

    def load(self, value: Any) -> Any:
        return date.fromisoformat(value)


def install(sessions: async_sessionmaker[Any], cipher: PersonalDataCipher) -> None:
    """Every session of this factory seals and opens with `cipher`."""
    sessions.configure(info={CIPHER: cipher})


def cipher_of(session: Session | AsyncSession) -> PersonalDataCipher:
    """The personal-data cipher this session seals with."""
    return _cipher(session.sync_session if isinstance(session, AsyncSession) else session)


def _cipher(session: Session | None) -> PersonalDataCipher:
    cipher = session.info.get(CIPHER) if session is not None else None
    if cipher is None:
        raise RuntimeError("this session has no personal-data cipher (sealing.install)")
    assert isinstance(cipher, PersonalDataCipher)
    return cipher


def seal_all(instance: object, cipher: PersonalDataCipher) -> None:
    """Seal the instance's changed values now: for a row written without the ORM's flush."""
    for one in _sealed_of(instance):
        one.seal(instance, cipher)


def _sealed_of(instance: object) -> list[SealedJSON]:
    return [s for cls in type(instance).__mro__ for s in _SEALED.get(cls, [])]


def _open_loaded(instance: object, context: QueryContext) -> None:
    cipher = _cipher(context.session)
    for sealed in _sealed_of(instance):
        sealed.open(instance, cipher)


def _open_refreshed(instance: object, context: QueryContext, attrs: Any) -> None:
    _open_loaded(instance, context)


@event.listens_for(Session, "before_flush")
def _seal_changed(session: Session, flush: UOWTransaction, instances: Any) -> None:
    for instance in (*session.new, *session.dirty):
        sealed = _sealed_of(instance)
        if sealed:
            cipher = _cipher(session)
            for one in sealed:
                one.seal(instance, cipher)
