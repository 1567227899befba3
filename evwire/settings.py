"""One typed settings object, built once at the edge (CLI or web) and passed down.

Values come from ``EVWIRE_*`` environment variables, ``EVWIRE_*_FILE`` for secrets, and an
optional ``.env``-style config file named by ``EVWIRE_CONFIG``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "admin", "password"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="EVWIRE_",
        env_file=os.environ.get("EVWIRE_CONFIG") or None,
        extra="ignore",
    )
    _key_cache: tuple[Path, str] | None = PrivateAttr(default=None)  # (data_dir, key) of signing_key

    data_dir: Path = Field(
        default=Path("./evwire-data"), description="Folder for the SQLite file, .eml files and caches."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: SQLite in data_dir. PostgreSQL: postgresql+psycopg://...",
    )
    admin_token: SecretStr | None = Field(
        default=None, description="Token that opens the admin API and pages; unset means admin is closed."
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key that signs links and cookies; derived from admin_token or generated if unset.",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000", description="Public URL of this instance, used in links and feeds."
    )
    catalog_path: Path | None = Field(
        default=None,
        description="Entity catalog YAML; default is the starter catalog shipped in the package.",
    )
    host: str = Field(default="127.0.0.1", description="Address `evwire serve` binds to.")
    port: int = Field(default=8000, description="Port `evwire serve` binds to.")
    max_article_bytes: int = Field(
        default=5_000_000, description="Largest article accepted by post and the API."
    )
    page_size: int = Field(default=30, description="Articles per page on lists and API pages.")
    page_cache_entries: int = Field(
        default=2000,
        ge=0,
        description="Rendered public pages each web process keeps until the content changes (0: off).",
    )

    # Feeds in (evwire.ingest: fetch, client, hostlimits, body, guard); docs/settings.md says more
    allow_private_feeds: bool = Field(default=False, description="Let feeds reach non-public addresses.")
    feed_allow_networks: str = Field(default="", description="CIDR ranges feeds may reach although private.")
    feed_max_bytes: int = Field(default=10_000_000, description="Largest feed body, after decompression.")
    feed_connect_timeout: float = Field(default=10.0, description="Seconds to wait for a connection.")
    feed_read_timeout: float = Field(default=30.0, description="Seconds a server may stay silent.")
    feed_total_timeout: float = Field(default=60.0, description="Seconds one fetch may take in all.")
    feed_host_concurrency: int = Field(default=2, description="Requests at once to one host.")
    feed_host_min_gap: float = Field(default=1.0, description="Seconds between request starts to one host.")
    feed_global_concurrency: int = Field(default=50, description="Feed requests at once, all hosts together.")
    feed_max_redirects: int = Field(default=5, description="Redirect hops followed before a fetch gives up.")

    # Alerts out (evwire.alerts); docs/settings.md says more
    smtp_url: SecretStr | None = Field(
        default=None, description="SMTP server for mail; unset: .eml files in data_dir."
    )
    mail_from: str | None = Field(default=None, description="From address of alert mails.")
    smtp_pool_size: int = Field(default=4, description="SMTP connections kept open and reused.")
    smtp_timeout: float = Field(default=30.0, description="Seconds an SMTP server may take to answer.")
    confirm_link_hours: int = Field(default=48, description="Hours a confirmation link stays valid.")
    link_max_age_days: int = Field(default=365, description="Days manage and unsubscribe links stay valid.")
    retry_base_seconds: float = Field(
        default=30.0, description="First retry delay after a temporary failure."
    )
    retry_max_seconds: float = Field(default=21600.0, description="Longest retry delay.")
    alert_max_age_days: float = Field(
        default=3.0,
        description="Feed items dated longer than this before evwire first saw them are not alerted.",
    )
    outbox_lease_seconds: float = Field(
        default=120.0, description="How long a sender holds claimed alerts before another may take them over."
    )
    send_batch_size: int = Field(default=500, description="Alerts a sender claims at once.")
    send_poll_seconds: float = Field(
        default=1.0, description="Fallback check for due alerts when no wake-up (NOTIFY) arrives."
    )

    # Operations (evwire.logs, evwire.web.ratelimit); docs/settings.md and docs/operations.md say more
    log_format: Literal["text", "json"] = Field(default="text", description="Log lines as text or JSON.")
    log_level: str = Field(default="INFO", description="Lowest level logged: DEBUG, INFO, WARNING, ERROR.")
    rate_limit_enabled: bool = Field(default=True, description="Answer 429 to clients over the limits below.")
    rate_limit_write_per_minute: float = Field(
        default=120.0, description="API writes (POST/PUT/PATCH/DELETE /api/...) per minute per client."
    )
    rate_limit_write_burst: int = Field(default=60, description="API writes a client may make at once.")
    rate_limit_search_per_minute: float = Field(
        default=60.0, description="Searches (/search, /api/search) per minute per client address."
    )
    rate_limit_search_burst: int = Field(default=30, description="Searches a client may make at once.")

    def model_post_init(self, __context: object) -> None:
        for name in ("admin_token", "secret_key", "smtp_url"):
            env_file = os.environ.get(f"EVWIRE_{name.upper()}_FILE")
            if env_file and getattr(self, name) is None:
                object.__setattr__(self, name, SecretStr(Path(env_file).read_text().strip()))
        token = self.admin_token.get_secret_value() if self.admin_token else None
        if token is not None and (token.lower() in PLACEHOLDER_SECRETS or len(token) < 8):
            raise ValueError(
                "EVWIRE_ADMIN_TOKEN is a placeholder or shorter than 8 characters; set a real secret"
            )

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'evwire.db').resolve()}"

    @property
    def signing_key(self) -> str:
        """Key for signed links and cookies, stable across restarts of one instance."""
        if self.secret_key:
            return self.secret_key.get_secret_value()
        # Read once per data folder: every page with a form signs a token, and a file read per request
        # showed up in the page profile.
        cached = self._key_cache
        if cached is not None and cached[0] == self.data_dir:
            return cached[1]
        key_file = self.data_dir / "secret.key"
        if key_file.exists():
            key = key_file.read_text().strip()
        else:
            import secrets

            self.data_dir.mkdir(parents=True, exist_ok=True)
            key = secrets.token_urlsafe(32)
            key_file.write_text(key)
        self._key_cache = (self.data_dir, key)
        return key
