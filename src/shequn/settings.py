"""Process settings from SHEQUN_* environment variables; the defaults are the embedded setup."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import AwareDatetime, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shequn.platform.clock import Clock, clock_from


class Settings(BaseSettings):
    """Every setting of a Shequn process. Each is documented in docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="SHEQUN_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./var/shequn.db",
        description="SQLAlchemy URL: SQLite (embedded) or postgresql+psycopg://… (production).",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis URL; when set, API ingest is queued on Redis Streams for workers.",
    )
    host: str = Field(default="127.0.0.1", description="Address `shequn serve` listens on.")
    forwarded_allow_ips: str = Field(
        default="",
        description="Proxies trusted for X-Forwarded-For (comma-separated addresses, * any); "
        "none by default, so a client cannot pick the address its rate limit counts.",
    )
    port: int = Field(default=8000, description="Port `shequn serve` listens on.")
    max_batch_events: int = Field(
        default=10_000, description="Most events one API batch may carry."
    )
    max_body_bytes: int = Field(
        default=16 * 1024 * 1024, description="Largest HTTP request body accepted, in bytes."
    )
    max_future_skew: timedelta = Field(
        default=timedelta(minutes=10),
        description="How far ahead of the clock an event's `at` may be (seconds or ISO 8601, "
        "e.g. PT10M); later events are refused. History may go back, never forward.",
    )
    bus_prefix: str = Field(
        default="", description="Prefix of the bus's Redis keys (several installs, one Redis)."
    )
    bus_partitions: int = Field(
        default=16, description="Redis Streams partitions; a group always maps to one."
    )
    executor_max_attempts: int = Field(
        default=6, description="Delivery attempts of an action before it is marked failed."
    )
    locale: str = Field(default="zh-CN", description="Language of messages: zh-CN or en.")
    log_dir: str = Field(
        default="./var/log",
        description="Where a command that failed writes the details (shequn.log).",
    )
    cache_dir: str = Field(
        default="./var/cache", description="Files Shequn may fetch again: posters' avatars."
    )
    analytics_dir: str = Field(
        default="./var/analytics",
        description="The kept analytics store: each workspace's log appended to a DuckDB file. "
        "Empty: every report reads the whole log.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Keys encrypting channel secrets at rest (base64url of 32 bytes), comma-"
        "separated: the first encrypts, every one decrypts (rotation). Unset: the key file.",
    )
    secret_key_file: str = Field(
        default="./var/secret.key",
        description="The key file used when SHEQUN_SECRET_KEY is unset; made on first use, "
        "readable by its owner only.",
    )
    avatar_allow_private_hosts: bool = Field(
        default=False,
        description="Fetch avatars from loopback, private and link-local addresses too.",
    )

    now: AwareDatetime | None = Field(
        default=None,
        description="Freeze the clock at this instant (ISO 8601 with offset): reproducible "
        "demos and tests. Unset: the wall clock.",
    )

    def clock(self) -> Clock:
        """What `now` means for this process: SHEQUN_NOW when set, else the wall clock."""
        return clock_from(self.now)

    def sqlite_path(self) -> Path | None:
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            return Path(self.database_url[len(prefix) :])
        return None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
