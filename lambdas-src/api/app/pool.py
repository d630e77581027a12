"""A bounded pool of PostgreSQL connections: at most `max_size` open, requests wait their turn.

psycopg's own pool (psycopg-pool) is not in this project's package mirror; this is the part of
it the API needs, on the standard library: `connection(timeout)` lends an idle connection, opens
a new one while fewer than `max_size` exist, and otherwise waits up to `timeout` seconds for one
to come back (then `PoolTimeout`: the database is busy, not down). A connection that failed
(broken socket, server restart) or is left inside a transaction is closed instead of returned,
so the next borrower opens a fresh one: a database that went away is used again once it is back.
"""

from __future__ import annotations

import select
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import pq


class PoolTimeout(Exception):
    """No connection became free in time: every one is in use (the database is busy)."""


class ConnectionPool:
    def __init__(self, connect: Callable[[], psycopg.Connection[Any]], max_size: int) -> None:
        if max_size < 1:
            raise ValueError(f"max_size must be at least 1, got {max_size}")
        self._connect = connect
        self.max_size = max_size
        self._idle: list[psycopg.Connection[Any]] = []
        self._open = 0
        self._cond = threading.Condition()
        self._closed = False

    @property
    def open_count(self) -> int:
        return self._open

    def resize(self, max_size: int) -> None:
        """Lower (or raise) the bound; connections above it are closed as they come back."""
        with self._cond:
            self.max_size = max(1, max_size)
            self._cond.notify_all()

    @contextmanager
    def connection(self, timeout: float) -> Iterator[psycopg.Connection[Any]]:
        conn = self._acquire(timeout)
        try:
            yield conn
        finally:
            self._release(conn)

    def _acquire(self, timeout: float) -> psycopg.Connection[Any]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if self._closed:
                    raise PoolTimeout("the connection pool is closed")
                while self._idle:
                    conn = self._idle.pop()
                    if _still_usable(conn):
                        return conn
                    self._open -= 1  # the server closed it while idle (restart, timeout)
                    conn.close()
                if self._open < self.max_size:
                    self._open += 1  # reserve the slot, connect outside the lock
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PoolTimeout(
                        f"no database connection free within {timeout:g} s ({self.max_size} in use)"
                    )
                self._cond.wait(remaining)
        try:
            return self._connect()
        except BaseException:
            with self._cond:
                self._open -= 1
                self._cond.notify()
            raise

    def _release(self, conn: psycopg.Connection[Any]) -> None:
        healthy = (
            not conn.closed
            and not conn.broken
            and conn.info.transaction_status == pq.TransactionStatus.IDLE
            and not self._closed
        )
        with self._cond:
            if healthy and self._open <= self.max_size:
                self._idle.append(conn)
            else:
                self._open -= 1
                healthy = False
            self._cond.notify()
        if not healthy:
            conn.close()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._cond.notify_all()
        for conn in idle:
            conn.close()


def _still_usable(conn: psycopg.Connection[Any]) -> bool:
    """An idle connection has nothing to read; if it has, the server closed it (or said why)."""
    if conn.closed or conn.broken:
        return False
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError, psycopg.Error):
        return False
    return not readable
