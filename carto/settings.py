"""Runtime settings, read from `CARTO_*` environment variables in one place.

Nothing here is built at import time: `get_settings()` reads the environment
when called, and the app factory receives the object it should use.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from carto.basemap import BasemapChoice, parse_basemap


class Settings(BaseSettings):
    """Everything a deployment can tune; defaults give the zero-configuration demo."""

    model_config = SettingsConfigDict(env_prefix="CARTO_", env_file=None, extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="External PostGIS (postgresql+psycopg://...). Unset: the embedded cluster.",
    )
    app_database_url: str | None = Field(
        default=None,
        description="External PostGIS: the write-side login (member of carto_app).",
    )
    reader_database_url: str | None = Field(
        default=None,
        description="External PostGIS: the anonymous-read login (member of carto_reader).",
    )
    data_dir: Path = Field(default=Path("var"), description="Embedded cluster, media, secrets.")
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str | None = Field(
        default=None, description="Signs access tokens; generated into the data dir when unset."
    )
    token_ttl_minutes: int = 60 * 12
    metrics_token: str | None = Field(
        default=None, description="Bearer token of /metrics (Prometheus); unset: no /metrics."
    )
    public_url: str | None = Field(
        default=None,
        description="Base URL of every e-mailed link (https://carto.example.fr); required "
        "unless bound to a loopback address, where http://host:port is used.",
    )
    allowed_hosts: str = Field(
        default="",
        description="Host names the server answers (comma-separated); default: the public "
        "URL's host, plus localhost/127.0.0.1/::1 when bound to loopback. Others get 400.",
    )
    cors_origins: str = Field(
        default="",
        description="Origins (comma-separated, e.g. https://app.example.fr) whose pages may "
        "post Open311 requests; public reads answer any origin. Never with credentials.",
    )
    log_level: str = "INFO"
    log_json: bool = False
    rate_limits: str = Field(default="on", description="'off' disables rate limiting (benchmarks).")
    read_database_url: str | None = Field(
        default=None,
        description="Streaming replica for public reads (tiles, OGC, exports, pages).",
    )
    read_max_lag_s: float = Field(
        default=5.0, description="Replica further behind than this: reads go to the primary."
    )
    read_check_s: float = Field(default=1.0, description="How often the replica lag is measured.")
    db_pool_size: int = 10
    db_max_overflow: int = 10
    reader_pool_size: int = Field(
        default=4, description="Connections of each anonymous-read pool (OGC, tiles, exports)."
    )
    max_page_size: int = 1000
    signalement_reopen_days: int = Field(
        default=30, description="How long a citizen may reopen their closed report (days)."
    )
    open311_api_keys: str = Field(
        default="",
        description="Deprecated: comma-separated deployment-wide Open311 keys (unscoped); "
        "when set, POSTs need a key. Prefer `carto api-client create` (scoped, revocable).",
    )
    open311_require_api_key: bool = Field(
        default=False, description="Open311 POSTs need a valid api_key (no anonymous reports)."
    )
    osm_file: Path | None = Field(
        default=None,
        description="OpenStreetMap extract (.osm/.osm.pbf) for street context; loaded once.",
    )
    pg_bin_dir: Path | None = Field(
        default=None, description="Directory of initdb/pg_ctl; found automatically when unset."
    )
    # Rate limits: rules "LIMIT/SECONDS" by name, merged over carto.ratelimit.DEFAULT_RULES.
    rate_limit_rules: dict[str, str] = Field(
        default_factory=dict, description='e.g. {"signalement": "120/60"} (JSON in the env).'
    )
    max_body_bytes: int = Field(default=11 * 1024 * 1024, description="Any request body.")
    # Photos (carto.media)
    media_max_bytes: int = Field(default=10 * 1024 * 1024, description="One uploaded photo.")
    media_max_pixels: int = Field(default=50_000_000, description="Decoded size cap (bombs).")
    media_max_pixels_anonymous: int = Field(
        default=24_000_000, description="Decoded size cap without an account (CPU per upload)."
    )
    media_max_side: int = 2048
    media_thumb_side: int = 400
    media_format: str = Field(default="jpeg", description="Re-encoding: 'jpeg' or 'webp'.")
    signalement_contact_retention_days: int = Field(
        default=365, description="Clear reporters' contacts N days after closing; 0 keeps."
    )
    media_original_retention_days: int = Field(default=30, description="0 keeps originals.")
    # Notifications (carto.notifications)
    notifications_worker: bool = Field(default=True, description="Run the outbox worker in-app.")
    notifications_max_attempts: int = 8
    notifications_backoff_s: float = 30.0
    notifications_lease_s: float = 120.0
    notifications_poll_s: float = 2.0
    worker_metrics_port: int | None = Field(
        default=None,
        description="Port of `carto worker`'s /metrics (with CARTO_METRICS_TOKEN); unset: none.",
    )
    worker_metrics_host: str = "127.0.0.1"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "Carto <ne-pas-repondre@carto.local>"
    smtp_starttls: bool = True
    follow_link_days: int = Field(
        default=30, ge=1, le=366,
        description="Lifetime of the follow link e-mailed to an authority without Carto.",
    )  # fmt: skip
    webhook_timeout_s: float = 10.0
    webhook_allow_private_networks: bool = Field(
        default=False,
        description="Let webhooks reach loopback, private and link-local addresses (an"
        " on-premises receiver); off, a service's webhook cannot be aimed at the server's"
        " own network (SSRF).",
    )
    # Vector tiles (carto.tiles): the shared hot-tile cache in PostgreSQL.
    tile_cache: bool = Field(default=True, description="Serve and store tiles in tiles.tile_cache.")
    tile_cache_min_ms: float = Field(
        default=2.0, description="Store only tiles whose rendering took at least this long."
    )
    # Web map (carto.web, carto.basemap): Plan IGN, falling back to Carto's own base.
    basemap: str = Field(
        default="auto",
        description="auto (Plan IGN, else Carto's own base) | plan-ign | osm | none | a "
        "MapLibre style URL or an XYZ template.",
    )
    basemap_url: str | None = Field(
        default=None,
        description="Deprecated (use CARTO_BASEMAP): a style URL or XYZ template.",
    )
    basemap_attribution: str | None = Field(
        default=None, description="Attribution shown for the base map, e.g. '© OpenStreetMap'."
    )

    # Geocoding (carto.geocoding): built in (PostGIS) unless a BAN-compatible URL is set.
    geocoder_url: str | None = Field(
        default=None,
        description="BAN-compatible geocoder (api-adresse, addok); unset: the built-in one.",
    )
    geocoder_timeout_s: float = Field(default=2.0, description="External geocoder timeout.")

    @field_validator(
        "database_url",
        "app_database_url",
        "reader_database_url",
        "read_database_url",
        "smtp_host",
        "geocoder_url",
    )
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("basemap")
    @classmethod
    def _known_basemap(cls, value: str) -> str:
        parse_basemap(value)  # a clear error at start, not a blank map later
        return value

    @property
    def basemap_choice(self) -> BasemapChoice:
        """The base map to draw; the older `CARTO_BASEMAP_URL` wins over the default."""
        chosen = self.basemap_url if self.basemap_url and self.basemap == "auto" else self.basemap
        return parse_basemap(chosen, attribution=self.basemap_attribution)

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
