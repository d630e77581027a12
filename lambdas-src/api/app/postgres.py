"""PostgreSQL storage (psycopg 3) behind the PredictionRepository interface, in its own module so
that psycopg is imported only when DATABASE_URL is set (a faster start on SQLite).

A bounded pool (app/pool.py) of at most DB_POOL_SIZE connections per process, kept below the
server's max_connections; see app/repository.py for the guarantees.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from app.pool import ConnectionPool, PoolTimeout
from app.repository import (
    _SCHEMA_LOCK_KEY,
    COLUMNS,
    POSTGRES_DDL,
    DatabaseBusy,
    DatabaseUnavailable,
    _one_line,
    _SqlRepository,
)

log = logging.getLogger(__name__)


class PostgresRepository(_SqlRepository):
    backend = "postgresql"
    _placeholder = "%s"

    def __init__(
        self,
        url: str,
        connect_timeout_s: int = 2,
        pool_size: int = 5,
        pool_timeout_s: float = 30.0,
        processes: int = 1,
    ) -> None:
        self._url = url
        self._timeout = connect_timeout_s
        self._pool_timeout = pool_timeout_s
        self._processes = processes
        self._schema_ready = False
        self._sized = False
        self._pool = ConnectionPool(self._open, pool_size)

    @property
    def pool(self) -> ConnectionPool:
        return self._pool

    def _open(self) -> psycopg.Connection[dict[str, Any]]:
        conn = psycopg.connect(
            self._url,
            connect_timeout=self._timeout,
            application_name="prediction-api",
            row_factory=dict_row,
            autocommit=True,
        )
        try:
            if not self._schema_ready:
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_KEY,))
                    conn.execute(POSTGRES_DDL)
                self._schema_ready = True
            if not self._sized:
                self._fit_pool_to_server(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _fit_pool_to_server(self, conn: psycopg.Connection[dict[str, Any]]) -> None:
        """Keep every process's pool together below the server's max_connections."""
        row = conn.execute(
            "SELECT current_setting('max_connections')::int"
            " - current_setting('superuser_reserved_connections')::int"
            " - coalesce(current_setting('reserved_connections', true), '0')::int AS n"
        ).fetchone()
        self._sized = True
        if row is None:
            return
        usable = max(1, (int(row["n"]) - 2) // self._processes)  # 2 left for psql, backups
        if usable < self._pool.max_size:
            log.warning(
                "DB_POOL_SIZE %d x %d process(es) would exceed the server's %d connections:"
                " using %d per process",
                self._pool.max_size,
                self._processes,
                int(row["n"]),
                usable,
            )
            self._pool.resize(usable)

    @contextmanager
    def _connect(self) -> Iterator[psycopg.Connection[dict[str, Any]]]:
        try:
            with self._pool.connection(self._pool_timeout) as conn, conn.transaction():
                yield conn
        except PoolTimeout as exc:
            raise DatabaseBusy(str(exc)) from exc
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise DatabaseUnavailable(_one_line(exc, self._password())) from exc

    def _insert_rows(self, rows: list[tuple[Any, ...]]) -> list[Any]:
        # One statement, one round trip, atomic on its own (autocommit: no BEGIN/COMMIT trips).
        # The identity values are drawn in the order unnest yields the rows, so sorting the
        # returned rows by id gives them back in input order.
        columns = [list(column) for column in zip(*rows, strict=True)]
        try:
            with self._pool.connection(self._pool_timeout) as conn:
                inserted = conn.execute(
                    "INSERT INTO predictions"
                    " (created_at, text, label, probabilities, model_version)"
                    " SELECT * FROM unnest(%s::timestamptz[], %s::text[], %s::text[],"
                    f" %s::jsonb[], %s::text[]) RETURNING {COLUMNS}",
                    columns,
                ).fetchall()
        except PoolTimeout as exc:
            raise DatabaseBusy(str(exc)) from exc
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise DatabaseUnavailable(_one_line(exc, self._password())) from exc
        inserted.sort(key=lambda row: int(row["id"]))
        return inserted

    def close(self) -> None:
        self._pool.close()

    def _password(self) -> str | None:
        try:
            password = conninfo_to_dict(self._url).get("password")
        except psycopg.Error:
            return None
        return str(password) if password else None

    def _encode(self, now: datetime, probabilities: dict[str, float]) -> tuple[Any, Any]:
        return now, Jsonb(probabilities)
