"""Settings: defaults that run with no configuration, production that refuses to guess."""

from __future__ import annotations

import stat
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from app.core.config import (
    DEFAULT_DATABASE_URL,
    ConfigurationError,
    Settings,
    decode_key,
    with_development_secrets,
)
from app.core.db import async_database_url


def test_defaults_are_the_embedded_sqlite_file(monkeypatch):
    for name in ("DATABASE_URL", "MUTUALAID_ENV", "DATA_KEY", "LOOKUP_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()

    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite:///./var/mutualaid.db"
    assert settings.env == "development"
    assert settings.clock is None


def test_variables_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/mutualaid")
    monkeypatch.setenv("PAYMENT_NOTIFICATION_SECRETS", "new-secret, old-secret,")
    monkeypatch.setenv("MUTUALAID_CLOCK", "2026-07-01T09:30:00")

    settings = Settings()

    assert settings.database_url == "postgresql://u@db/mutualaid"
    assert settings.payment_secrets() == [b"new-secret", b"old-secret"]
    # A clock without a zone is Shanghai time: 09:30 there is 01:30 UTC.
    assert settings.clock.astimezone(UTC) == datetime(2026, 7, 1, 1, 30, tzinfo=UTC)


def test_development_keys_are_generated_once_and_kept_private(tmp_path):
    settings = with_development_secrets(Settings(MUTUALAID_VAR_DIR=str(tmp_path)))
    again = with_development_secrets(Settings(MUTUALAID_VAR_DIR=str(tmp_path)))

    secrets_file = tmp_path / "dev-secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert len(settings.data_key_bytes()) == 32
    assert settings.data_key_bytes() == again.data_key_bytes()
    assert settings.lookup_key_bytes() == again.lookup_key_bytes()
    assert settings.data_key_bytes() != settings.lookup_key_bytes()
    assert len(settings.payment_secrets()) == 1


def test_given_keys_win_over_generated_ones(tmp_path):
    given = "k" * 43
    settings = with_development_secrets(Settings(MUTUALAID_VAR_DIR=str(tmp_path), DATA_KEY=given))
    assert settings.data_key_bytes() == decode_key(given, "DATA_KEY")


def test_production_requires_every_secret():
    with pytest.raises(ValidationError) as error:
        Settings(MUTUALAID_ENV="production", DATA_KEY="k" * 43)

    message = str(error.value)
    assert "LOOKUP_KEY" in message
    assert "PAYMENT_NOTIFICATION_SECRETS" in message
    assert "DATA_KEY," not in message


def test_production_refuses_a_fixed_clock():
    with pytest.raises(ValidationError, match="MUTUALAID_CLOCK"):
        Settings(
            MUTUALAID_ENV="production",
            DATA_KEY="k" * 43,
            LOOKUP_KEY="l" * 43,
            PAYMENT_NOTIFICATION_SECRETS="s",
            MUTUALAID_CLOCK="2026-01-01T00:00:00+08:00",
        )


def test_production_refuses_webhooks_to_private_addresses():
    with pytest.raises(ValidationError, match="MUTUALAID_WEBHOOK_ALLOW_PRIVATE_URLS"):
        Settings(
            MUTUALAID_ENV="production",
            DATA_KEY="k" * 43,
            LOOKUP_KEY="l" * 43,
            PAYMENT_NOTIFICATION_SECRETS="s",
            MUTUALAID_WEBHOOK_ALLOW_PRIVATE_URLS="true",
        )


def test_production_never_writes_development_secrets(tmp_path):
    settings = Settings(
        MUTUALAID_ENV="production",
        MUTUALAID_VAR_DIR=str(tmp_path),
        DATA_KEY="k" * 43,
        LOOKUP_KEY="l" * 43,
        PAYMENT_NOTIFICATION_SECRETS="s",
    )
    assert with_development_secrets(settings) is settings
    assert not (tmp_path / "dev-secrets.json").exists()


@pytest.mark.parametrize("bad", ["not base64!!", "c2hvcnQ="])
def test_weak_or_garbled_keys_are_refused(bad):
    with pytest.raises(ConfigurationError):
        Settings(DATA_KEY=bad).data_key_bytes()


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("sqlite:///./var/mutualaid.db", "sqlite+aiosqlite:///./var/mutualaid.db"),
        ("postgresql://u:p@h:5432/d", "postgresql+asyncpg://u:p@h:5432/d"),
        ("postgres://u@h/d", "postgresql+asyncpg://u@h/d"),
        ("postgresql+asyncpg://u@h/d", "postgresql+asyncpg://u@h/d"),
    ],
)
def test_plain_urls_get_the_async_driver(given, driver):
    assert async_database_url(given) == driver


def test_other_databases_are_refused():
    with pytest.raises(ValueError, match="unsupported"):
        async_database_url("mysql://u@h/d")


@pytest.mark.parametrize(
    "data_key",
    ["", "short", "a long passphrase with spaces that is not base64 at all!!", "c2hvcnQ="],
)
def test_production_checks_its_keys_at_start(data_key):
    with pytest.raises(ValidationError, match="DATA_KEY"):
        Settings(
            MUTUALAID_ENV="production",
            DATA_KEY=data_key,
            LOOKUP_KEY="l" * 43,
            PAYMENT_NOTIFICATION_SECRETS="s",
        )
