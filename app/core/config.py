"""Service settings, read from the environment once (pydantic-settings).

Every variable is optional in development. In production mode the secrets must be given and the
development conveniences (demo data, a fixed clock) are refused, so that a misconfigured deployment
fails at start-up instead of running with generated keys.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, PositiveInt, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.core.policy import Role

DEFAULT_DATABASE_URL = "sqlite:///./var/mutualaid.db"
DEV_SECRETS_FILE = "dev-secrets.json"
KEY_BYTES = 32


class ConfigurationError(RuntimeError):
    """The environment does not describe a service that can start."""


def decode_key(value: str, name: str) -> bytes:
    """Keys are given as base64 (standard or URL-safe) of at least 32 random bytes.

    Strict: a passphrase that merely happens to contain base64 letters is refused.
    """
    text = value.strip().replace("-", "+").replace("_", "/").rstrip("=")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError(f"{name} is not valid base64") from exc
    if len(raw) < KEY_BYTES:
        raise ConfigurationError(f"{name} must decode to at least {KEY_BYTES} bytes")
    return raw


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    database_url: str = Field(DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    env: Literal["development", "production"] = Field(
        "development", validation_alias="MUTUALAID_ENV"
    )
    clock: datetime | None = Field(None, validation_alias="MUTUALAID_CLOCK")
    payment_notification_secrets: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, validation_alias="PAYMENT_NOTIFICATION_SECRETS"
    )
    data_key: SecretStr | None = Field(None, validation_alias="DATA_KEY")
    lookup_key: SecretStr | None = Field(None, validation_alias="LOOKUP_KEY")
    # Earlier data keys, decrypt-only, until `mutualaid keys reencrypt` has moved every value.
    data_keys_retired: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, validation_alias="DATA_KEYS_RETIRED"
    )

    var_dir: Path = Field(Path("./var"), validation_alias="MUTUALAID_VAR_DIR")
    # The operator's plan files (`*.toml`), read beside the package's: next year's version is
    # installed without a release (app.plans).
    plans_dir: Path | None = Field(None, validation_alias="MUTUALAID_PLANS_DIR")
    log_level: str = Field("INFO", validation_alias="MUTUALAID_LOG_LEVEL")
    db_pool_size: int = Field(10, ge=1, validation_alias="MUTUALAID_DB_POOL_SIZE")
    db_max_overflow: int = Field(10, ge=0, validation_alias="MUTUALAID_DB_MAX_OVERFLOW")
    sqlite_busy_timeout_ms: int = Field(
        30_000, ge=0, validation_alias="MUTUALAID_SQLITE_BUSY_TIMEOUT_MS"
    )
    platform_timeout_seconds: float = Field(
        3.0, gt=0, validation_alias="MUTUALAID_PLATFORM_TIMEOUT_SECONDS"
    )
    platform_attempts: int = Field(3, ge=1, le=10, validation_alias="MUTUALAID_PLATFORM_ATTEMPTS")
    platform_bulk_timeout_seconds: float = Field(
        30.0, gt=0, validation_alias="MUTUALAID_PLATFORM_BULK_TIMEOUT_SECONDS"
    )
    # A platform's breaker opens after this many failed calls in a row (timeouts, 5xx,
    # connection errors), and stays open this long before one call probes it (ADR 0009).
    platform_breaker_threshold: int = Field(
        5, ge=1, validation_alias="MUTUALAID_PLATFORM_BREAKER_THRESHOLD"
    )
    platform_breaker_cooldown_seconds: float = Field(
        30.0, gt=0, validation_alias="MUTUALAID_PLATFORM_BREAKER_COOLDOWN_SECONDS"
    )
    # After this long asking the platforms, a batch chunk starts no new call: its rows not yet
    # answered are left to a later job (ADR 0009).
    batch_chunk_budget_seconds: float = Field(
        30.0, gt=0, validation_alias="MUTUALAID_BATCH_CHUNK_BUDGET_SECONDS"
    )
    in_process_worker: bool = Field(True, validation_alias="MUTUALAID_IN_PROCESS_WORKER")
    # Days after a member's last cover, application or claim before their identity and health
    # facts are erased; unset: never (the operator decides).
    retention_days: int | None = Field(None, ge=1, validation_alias="MUTUALAID_RETENTION_DAYS")
    max_body_bytes: int = Field(1_048_576, ge=1024, validation_alias="MUTUALAID_MAX_BODY_BYTES")
    batch_chunk_rows: int = Field(
        1000, ge=1, le=10_000, validation_alias="MUTUALAID_BATCH_CHUNK_ROWS"
    )
    max_batch_body_bytes: int = Field(
        64 * 1_048_576, ge=1024, validation_alias="MUTUALAID_MAX_BATCH_BODY_BYTES"
    )
    # Uploads one process reads at once: each holds up to about its own size in memory.
    batch_upload_concurrency: int = Field(
        2, ge=1, validation_alias="MUTUALAID_BATCH_UPLOAD_CONCURRENCY"
    )
    idempotency_retention_hours: int = Field(
        24, ge=1, validation_alias="MUTUALAID_IDEMPOTENCY_RETENTION_HOURS"
    )
    # Finished jobs are kept this long for the operator, then purged in small steps.
    job_retention_days: int = Field(7, ge=1, validation_alias="MUTUALAID_JOB_RETENTION_DAYS")
    idempotency_lock_seconds: int = Field(
        60, ge=1, validation_alias="MUTUALAID_IDEMPOTENCY_LOCK_SECONDS"
    )
    api_key_cache_seconds: float = Field(
        5.0, ge=0, le=300, validation_alias="MUTUALAID_API_KEY_CACHE_SECONDS"
    )
    metrics_token: SecretStr | None = Field(None, validation_alias="MUTUALAID_METRICS_TOKEN")
    rate_limits_enabled: bool = Field(True, validation_alias="MUTUALAID_RATE_LIMITS_ENABLED")
    # `platform=2000,citizen_app=100`: requests a second per client and process, by role, over
    # the defaults (`app.clients.rate_limit.ROLE_RATE_LIMITS`).
    rate_limits: Annotated[dict[Role, PositiveInt], NoDecode] = Field(
        default_factory=dict, validation_alias="MUTUALAID_RATE_LIMITS"
    )
    webhook_allow_private_urls: bool = Field(
        False, validation_alias="MUTUALAID_WEBHOOK_ALLOW_PRIVATE_URLS"
    )
    webhook_timeout_seconds: float = Field(
        5.0, gt=0, le=60, validation_alias="MUTUALAID_WEBHOOK_TIMEOUT_SECONDS"
    )
    webhook_retry_base_seconds: float = Field(
        10.0, ge=0, validation_alias="MUTUALAID_WEBHOOK_RETRY_BASE_SECONDS"
    )
    webhook_retry_max_seconds: float = Field(
        3600.0, ge=0, validation_alias="MUTUALAID_WEBHOOK_RETRY_MAX_SECONDS"
    )
    webhook_retry_hours: float = Field(24.0, gt=0, validation_alias="MUTUALAID_WEBHOOK_RETRY_HOURS")
    webhook_secret_overlap_hours: float = Field(
        24.0, ge=0, validation_alias="MUTUALAID_WEBHOOK_SECRET_OVERLAP_HOURS"
    )
    # The payment gateway (app.gateway). Unset: payouts and refunds wait, instructed later.
    gateway_url: str | None = Field(None, validation_alias="MUTUALAID_GATEWAY_URL")
    gateway_timeout_seconds: float = Field(
        10.0, gt=0, le=120, validation_alias="MUTUALAID_GATEWAY_TIMEOUT_SECONDS"
    )
    gateway_retries: int = Field(2, ge=0, le=10, validation_alias="MUTUALAID_GATEWAY_RETRIES")
    # The SMS gateway (app.notifications). Unset: messages wait, and are failed after a day.
    sms_url: str | None = Field(None, validation_alias="MUTUALAID_SMS_URL")
    sms_secret: SecretStr | None = Field(None, validation_alias="MUTUALAID_SMS_SECRET")
    sms_timeout_seconds: float = Field(
        5.0, gt=0, le=120, validation_alias="MUTUALAID_SMS_TIMEOUT_SECONDS"
    )
    sms_retries: int = Field(2, ge=0, le=10, validation_alias="MUTUALAID_SMS_RETRIES")
    sms_attempts: int = Field(6, ge=1, le=50, validation_alias="MUTUALAID_SMS_ATTEMPTS")
    sms_retry_base_seconds: float = Field(
        30.0, ge=0, validation_alias="MUTUALAID_SMS_RETRY_BASE_SECONDS"
    )
    sms_daily_cap_per_phone: int = Field(
        10, ge=1, validation_alias="MUTUALAID_SMS_DAILY_CAP_PER_PHONE"
    )

    @field_validator("payment_notification_secrets", "data_keys_retired", mode="before")
    @classmethod
    def _split_secrets(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("rate_limits", mode="before")
    @classmethod
    def _role_rates(cls, value: object) -> object:
        if isinstance(value, str):
            pairs = [part.split("=", 1) for part in value.split(",") if part.strip()]
            if any(len(pair) != 2 for pair in pairs):
                raise ValueError("give role=requests-per-second pairs, separated by commas")
            return {role.strip(): rate.strip() for role, rate in pairs}
        return value

    @field_validator("clock", mode="after")
    @classmethod
    def _clock_is_aware(cls, value: datetime | None) -> datetime | None:
        # A naive clock is read as Shanghai local time, the time zone every coverage date uses.
        if value is not None and value.tzinfo is None:
            from app.core.clock import SHANGHAI

            return value.replace(tzinfo=SHANGHAI)
        return value

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        if self.env != "production":
            return self
        missing = [
            name
            for name, value in (
                ("DATA_KEY", self.data_key),
                ("LOOKUP_KEY", self.lookup_key),
                ("PAYMENT_NOTIFICATION_SECRETS", self.payment_notification_secrets or None),
            )
            if value is None
        ]
        if missing:
            raise ValueError(f"production mode requires {', '.join(missing)}")
        try:
            self.data_key_bytes()
            self.lookup_key_bytes()
            self.retired_data_key_bytes()
        except ConfigurationError as exc:
            raise ValueError(str(exc)) from exc
        if self.clock is not None:
            raise ValueError("MUTUALAID_CLOCK is refused in production mode")
        if self.webhook_allow_private_urls:
            raise ValueError("MUTUALAID_WEBHOOK_ALLOW_PRIVATE_URLS is refused in production mode")
        if self.sms_url and self.sms_secret is None:
            raise ValueError("production mode requires MUTUALAID_SMS_SECRET with MUTUALAID_SMS_URL")
        if self.webhook_retry_base_seconds < 1:
            # 0 retries at once, over and over: a test setting, never a receiver's friend.
            raise ValueError(
                "MUTUALAID_WEBHOOK_RETRY_BASE_SECONDS must be at least 1 in production"
            )
        return self

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def data_key_bytes(self) -> bytes:
        return decode_key(self._require(self.data_key, "DATA_KEY"), "DATA_KEY")

    def lookup_key_bytes(self) -> bytes:
        return decode_key(self._require(self.lookup_key, "LOOKUP_KEY"), "LOOKUP_KEY")

    def retired_data_key_bytes(self) -> list[bytes]:
        return [
            decode_key(key.get_secret_value(), f"DATA_KEYS_RETIRED (key {n})")
            for n, key in enumerate(self.data_keys_retired, start=1)
        ]

    def payment_secrets(self) -> list[bytes]:
        return [s.get_secret_value().encode() for s in self.payment_notification_secrets]

    def sms_secret_bytes(self) -> bytes | None:
        return self.sms_secret.get_secret_value().encode() if self.sms_secret else None

    @staticmethod
    def _require(value: SecretStr | None, name: str) -> str:
        if value is None:
            raise ConfigurationError(f"{name} is not set")
        return value.get_secret_value()


def _new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode().rstrip("=")


def with_development_secrets(settings: Settings) -> Settings:
    """Fill missing secrets from `var/dev-secrets.json`, creating it (mode 0600) on first use.

    Only in development: the embedded default must run with no configuration at all, and the same
    keys must survive restarts, or data encrypted yesterday could not be read today.
    """
    if settings.is_production:
        return settings
    path = settings.var_dir / DEV_SECRETS_FILE
    stored: dict[str, str] = {}
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
    wanted = {
        "data_key": _new_key,
        "lookup_key": _new_key,
        "payment_secret": _new_key,
        "sms_secret": _new_key,
    }
    if any(name not in stored for name in wanted):
        stored = {name: stored.get(name) or make() for name, make in wanted.items()}
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(stored, handle, indent=2)
    updates: dict[str, object] = {}
    if settings.data_key is None:
        updates["data_key"] = SecretStr(stored["data_key"])
    if settings.lookup_key is None:
        updates["lookup_key"] = SecretStr(stored["lookup_key"])
    if not settings.payment_notification_secrets:
        updates["payment_notification_secrets"] = [SecretStr(stored["payment_secret"])]
    if settings.sms_secret is None:
        updates["sms_secret"] = SecretStr(stored["sms_secret"])
    return settings.model_copy(update=updates) if updates else settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests build their own `Settings` and pass it to `create_app`."""
    try:
        return with_development_secrets(Settings())
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from exc
