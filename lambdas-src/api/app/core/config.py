"""Settings, read from the environment (names are case-insensitive, no prefix).

PORT and DATABASE_URL keep the names Heroku and the course use; the others have defaults that
suit the Docker image and local development.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

API_ROOT = Path(__file__).resolve().parents[2]
POSTGRES_SCHEMES = ("postgres", "postgresql")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    host: str = "0.0.0.0"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"

    model_path: Path = API_ROOT / "model" / "model.joblib"

    # postgres://, postgresql:// or the Cloud SQL socket form
    # postgresql://user:pass@/db?host=/cloudsql/PROJECT:REGION:INSTANCE; unset: SQLite file.
    database_url: SecretStr | None = None
    sqlite_path: Path = API_ROOT / "var" / "predictions.sqlite3"
    db_connect_timeout_s: int = Field(default=2, ge=1, le=60)
    # PostgreSQL connections per process (lowered at start to fit the server's max_connections),
    # and how long a request waits for a connection (SQLite: for the write lock) before a 503.
    db_pool_size: int = Field(default=5, ge=1, le=100)
    db_pool_timeout_s: float = Field(default=10.0, gt=0, le=300)
    # Server-side statement_timeout and lock_timeout of the API's PostgreSQL connections (unset:
    # DB_POOL_TIMEOUT_S): a statement or lock that waits longer is a 503 "database busy". The
    # API's statements take milliseconds; with the defaults a request waits at most 10 s for a
    # connection plus 10 s for its statement, under the 30 s after which Heroku's router drops it.
    db_statement_timeout_s: float | None = Field(default=None, gt=0, le=300)
    db_lock_timeout_s: float | None = Field(default=None, gt=0, le=300)

    # server processes (one per core pays; the name Heroku and gunicorn use)
    web_concurrency: int = Field(default=1, ge=1, le=64)
    # micro-batching of POST /predict: concurrent texts share one predict_proba call and one
    # INSERT round trip; a batch closes at BATCH_MAX_SIZE texts or BATCH_MAX_WAIT_MS.
    batch_max_size: int = Field(default=64, ge=1, le=1000)
    batch_max_wait_ms: float = Field(default=0.0, ge=0, le=1000)
    batch_concurrency: int = Field(default=2, ge=1, le=16)

    # HTTP limits enforced by the server protocol (app/server.py): 431 and 408, then close.
    max_header_bytes: int = Field(default=16384, ge=1024, le=1024 * 1024)
    max_header_count: int = Field(default=64, ge=8, le=1000)
    header_timeout_s: float = Field(default=10.0, gt=0, le=300)
    body_timeout_s: float = Field(default=20.0, gt=0, le=600)
    keep_alive_timeout_s: float = Field(default=5.0, gt=0, le=300)

    max_body_bytes: int = Field(default=65536, ge=256, le=16 * 1024 * 1024)
    max_text_chars: int = Field(default=5000, ge=1, le=1_000_000)
    max_batch_size: int = Field(default=32, ge=1, le=1000)

    @field_validator("database_url", mode="before")
    @classmethod
    def _check_database_url(cls, value: Any) -> Any:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str):
            raise ValueError("must be a string")
        scheme = urlsplit(value.strip()).scheme.lower()
        if scheme not in POSTGRES_SCHEMES:
            raise ValueError(
                "must start with postgres:// or postgresql:// "
                f"(or be unset for SQLite), got {mask_url(value)!r}"
            )
        return value.strip()

    @property
    def statement_timeout_s(self) -> float:
        return self.db_statement_timeout_s or self.db_pool_timeout_s

    @property
    def lock_timeout_s(self) -> float:
        return self.db_lock_timeout_s or self.db_pool_timeout_s

    @property
    def database_display(self) -> str:
        """Where predictions are stored, password masked: safe to log."""
        if self.database_url is None:
            return f"sqlite:///{self.sqlite_path}"
        return mask_url(self.database_url.get_secret_value())


def mask_url(url: str) -> str:
    """Return `url` with its password (in the user part or a password= parameter) masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, has_password, _ = userinfo.partition(":")
        netloc = f"{user}:***@{hostport}" if has_password else netloc
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, "***" if k.lower() == "password" else v) for k, v in pairs], safe="/:*"
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
