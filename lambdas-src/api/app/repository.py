"""Where predictions are stored: one small interface, with SQLite here and PostgreSQL
(app/postgres.py, which imports this module; never the other way) behind it.

Three outcomes for any database call: done; `DatabaseBusy` (the database is up but nothing was
free in time: a connection, a lock, a statement; a 503 with Retry-After, never `stored: false`);
`DatabaseUnavailable` (it is down: predictions are answered `stored: false`, CRUD is a 503).
A repository remembers a busy answer for BUSY_MEMORY_S, so `/health` says degraded while it lasts.
SQLite: one connection per process used by one thread at a time (the single writer), a busy
timeout of DB_POOL_TIMEOUT_S for other processes, and BEGIN IMMEDIATE for writes: no "database
is locked" under concurrent requests. Queries are parameterised, always.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)


class DatabaseUnavailable(Exception):
    """The database cannot be reached or used right now; the message is safe to log."""


class DatabaseBusy(DatabaseUnavailable):
    """The database is up but every connection stayed in use for the whole bounded wait."""


@dataclass(frozen=True)
class NewPrediction:
    text: str
    label: str
    probabilities: dict[str, float]
    model_version: str


@dataclass(frozen=True)
class StoredPrediction:
    id: int
    created_at: datetime
    text: str
    label: str
    probabilities: dict[str, float]
    corrected_label: str | None
    model_version: str


class PredictionRepository(Protocol):
    backend: str
    """'postgresql' or 'sqlite'"""

    def ensure_schema(self) -> None: ...
    def ping(self) -> None: ...
    def add_many(self, items: Sequence[NewPrediction]) -> list[StoredPrediction]: ...
    def list_page(
        self, limit: int, offset: int = 0, before: int | None = None
    ) -> tuple[list[StoredPrediction], int]: ...
    def close(self) -> None: ...
    def get(self, prediction_id: int) -> StoredPrediction | None: ...
    def set_correction(
        self, prediction_id: int, corrected_label: str | None
    ) -> StoredPrediction | None: ...
    def delete(self, prediction_id: int) -> bool: ...


COLUMNS = "id, created_at, text, label, probabilities, corrected_label, model_version"

SQLITE_DDL = """
CREATE TABLE IF NOT EXISTS predictions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at      TEXT NOT NULL,
    text            TEXT NOT NULL,
    label           TEXT NOT NULL,
    probabilities   TEXT NOT NULL,
    corrected_label TEXT,
    model_version   TEXT NOT NULL
)
"""


def one_line(exc: BaseException, secret: str | None = None) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if secret:
        text = text.replace(secret, "***")
    return f"{type(exc).__name__}: {text}"


BUSY_MEMORY_S = 5.0  # /health reports busy this long after a request met a busy database


class SqlRepository:
    """The queries, written once with `?` placeholders; subclasses connect and encode values."""

    backend: str
    _placeholder: str  # the driver's parameter marker
    _busy_until = 0.0
    _busy_detail = ""

    def busy(self, detail: str) -> DatabaseBusy:
        """The error to raise for a busy database, remembered for `ping` (and /health)."""
        self._busy_until = time.monotonic() + BUSY_MEMORY_S
        self._busy_detail = detail
        return DatabaseBusy(detail)

    def _connect(self) -> AbstractContextManager[Any]:
        """A connection inside a transaction (committed on success, rolled back on error)."""
        raise NotImplementedError

    def _encode(self, now: datetime, probabilities: dict[str, float]) -> tuple[Any, Any]:
        """`created_at` and `probabilities` as the driver stores them."""
        raise NotImplementedError

    def _insert_rows(self, rows: list[tuple[Any, ...]]) -> list[Any]:
        raise NotImplementedError

    def _execute(self, conn: Any, sql: str, params: Sequence[Any] = ()) -> Any:
        return conn.execute(sql.replace("?", self._placeholder), params)

    def close(self) -> None:
        """Close the connections kept open (end of the application's lifespan)."""

    def ensure_schema(self) -> None:
        with self._connect():
            pass

    def _raise_if_recently_busy(self) -> None:
        if time.monotonic() < self._busy_until:
            raise DatabaseBusy(f"busy within the last {BUSY_MEMORY_S:g} s: {self._busy_detail}")

    def ping(self) -> None:
        """Raise DatabaseBusy if a request met a busy database in the last BUSY_MEMORY_S, else
        whatever one short query meets."""
        self._raise_if_recently_busy()
        with self._connect() as conn:
            conn.execute("SELECT 1")

    def add_many(self, items: Sequence[NewPrediction]) -> list[StoredPrediction]:
        """Insert every item in one statement or transaction; rows come back in input order."""
        if not items:
            return []
        now = datetime.now(UTC)
        rows = []
        for item in items:
            created_at, probabilities = self._encode(now, item.probabilities)
            rows.append((created_at, item.text, item.label, probabilities, item.model_version))
        return [_from_row(r) for r in self._insert_rows(rows)]

    def list_page(
        self, limit: int, offset: int = 0, before: int | None = None
    ) -> tuple[list[StoredPrediction], int]:
        """Newest first; `before` (an id) pages by key: no duplicates under concurrent inserts."""
        where, params = ("WHERE id < ?", [before]) if before is not None else ("", [])
        with self._connect() as conn:
            rows = self._execute(
                conn,
                f"SELECT {COLUMNS} FROM predictions {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
            total = conn.execute("SELECT count(*) AS n FROM predictions").fetchone()
        return [_from_row(r) for r in rows], int(total["n"]) if total else 0

    def get(self, prediction_id: int) -> StoredPrediction | None:
        with self._connect() as conn:
            row = self._execute(
                conn, f"SELECT {COLUMNS} FROM predictions WHERE id = ?", (prediction_id,)
            ).fetchone()
        return _from_row(row) if row else None

    def set_correction(
        self, prediction_id: int, corrected_label: str | None
    ) -> StoredPrediction | None:
        with self._connect() as conn:
            row = self._execute(
                conn,
                f"UPDATE predictions SET corrected_label = ? WHERE id = ? RETURNING {COLUMNS}",
                (corrected_label, prediction_id),
            ).fetchone()
        return _from_row(row) if row else None

    def delete(self, prediction_id: int) -> bool:
        with self._connect() as conn:
            cur = self._execute(conn, "DELETE FROM predictions WHERE id = ?", (prediction_id,))
            return bool(cur.rowcount > 0)


class SqliteRepository(SqlRepository):
    backend = "sqlite"
    _placeholder = "?"

    def __init__(self, path: Path, timeout_s: float = 30.0) -> None:
        self._path = path
        self._timeout = timeout_s
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # one user of the connection at a time: the single writer

    def _open(self) -> sqlite3.Connection:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        # busy timeout: another process holding the write lock is waited for, not an error;
        # IMMEDIATE: a write transaction takes the lock at BEGIN (no upgrade deadlock).
        conn = sqlite3.connect(
            self._path, timeout=self._timeout, isolation_level="IMMEDIATE", check_same_thread=False
        )
        try:
            conn.row_factory = sqlite3.Row
            # WAL (kept in the file): readers do not block the writer.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # WAL's durable-on-checkpoint mode
            with conn:
                conn.execute(SQLITE_DDL)
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if not self._lock.acquire(timeout=self._timeout):
            raise self.busy(f"the SQLite connection stayed in use for {self._timeout:g} s")
        try:
            try:
                if self._conn is None:
                    self._conn = self._open()
            except (OSError, sqlite3.Error) as exc:
                raise DatabaseUnavailable(one_line(exc)) from exc
            conn = self._conn
            try:
                with conn:  # commits or rolls back
                    yield conn
            except sqlite3.OperationalError as exc:  # locked, read-only, disk I/O, file gone
                if "locked" in str(exc) or "busy" in str(exc):
                    raise self.busy(one_line(exc)) from exc
                self._conn = None
                conn.close()
                raise DatabaseUnavailable(one_line(exc)) from exc
        finally:
            self._lock.release()

    def _insert_rows(self, rows: list[tuple[Any, ...]]) -> list[Any]:
        sql = (
            "INSERT INTO predictions (created_at, text, label, probabilities, model_version)"
            f" VALUES (?, ?, ?, ?, ?) RETURNING {COLUMNS}"
        )
        with self._connect() as conn:  # one transaction for the batch
            return [conn.execute(sql, row).fetchone() for row in rows]

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _encode(self, now: datetime, probabilities: dict[str, float]) -> tuple[Any, Any]:
        return now.isoformat(), json.dumps(probabilities)


def _from_row(row: Any) -> StoredPrediction:
    created_at = row["created_at"]
    if isinstance(created_at, str):
        created_at = datetime.fromisoformat(created_at)
    probabilities = row["probabilities"]
    if isinstance(probabilities, str):
        probabilities = json.loads(probabilities)
    return StoredPrediction(
        id=int(row["id"]),
        created_at=created_at,
        text=row["text"],
        label=row["label"],
        probabilities={str(k): float(v) for k, v in probabilities.items()},
        corrected_label=row["corrected_label"],
        model_version=row["model_version"],
    )
