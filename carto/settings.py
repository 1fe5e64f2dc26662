"""Runtime settings, read from `CARTO_*` environment variables in one place.

Nothing here is built at import time: `get_settings()` reads the environment
when called, and the app factory receives the object it should use.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything a deployment can tune; defaults give the zero-configuration demo."""

    model_config = SettingsConfigDict(env_prefix="CARTO_", env_file=None, extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="External PostGIS (postgresql+psycopg://...). Unset: the embedded cluster.",
    )
    data_dir: Path = Field(default=Path("var"), description="Embedded cluster, media, secrets.")
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str | None = Field(
        default=None, description="Signs access tokens; generated into the data dir when unset."
    )
    token_ttl_minutes: int = 60 * 12
    log_level: str = "INFO"
    log_json: bool = False
    rate_limits: str = Field(default="on", description="'off' disables rate limiting (benchmarks).")
    db_pool_size: int = 10
    db_max_overflow: int = 10
    max_page_size: int = 1000
    pg_bin_dir: Path | None = Field(
        default=None, description="Directory of initdb/pg_ctl; found automatically when unset."
    )

    @field_validator("database_url")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @property
    def rate_limits_enabled(self) -> bool:
        return self.rate_limits.strip().lower() not in {"off", "0", "false", "no"}

    @property
    def uses_embedded_cluster(self) -> bool:
        return self.database_url is None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
