"""The bounded connection pool (app/pool.py) on a real PostgreSQL: never more than max_size
connections, borrowers wait for one to come back, a bounded wait ends in PoolTimeout (the API's
503 "database busy", never `stored: false`), and a connection the server closed while idle is
replaced rather than handed out."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.pool import ConnectionPool, PoolTimeout
from app.postgres import PostgresRepository
from ml.model import TextClassifier
from tests.conftest import make_settings


def make_pool(url: str, size: int) -> ConnectionPool:
    return ConnectionPool(lambda: psycopg.connect(url, autocommit=True), size)


def test_borrowers_wait_for_a_connection_and_never_exceed_the_bound(postgres_url: str) -> None:
    pool = make_pool(postgres_url, 2)
    inside = 0
    most = 0
    lock = threading.Lock()

    def borrow() -> None:
        nonlocal inside, most
        with pool.connection(timeout=30) as conn:
            with lock:
                inside += 1
                most = max(most, inside)
            conn.execute("SELECT pg_sleep(0.05)")
            with lock:
                inside -= 1

    threads = [threading.Thread(target=borrow) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 2
    assert pool.open_count == 2
    pool.close()


def test_a_bounded_wait_ends_in_pool_timeout(postgres_url: str) -> None:
    pool = make_pool(postgres_url, 1)
    with pool.connection(timeout=1):
        started = time.monotonic()
        with (
            pytest.raises(PoolTimeout, match=r"no database connection free within 0\.2 s"),
            pool.connection(timeout=0.2),
        ):
            pass
        assert 0.15 < time.monotonic() - started < 2
    with pool.connection(timeout=1) as conn:  # free again
        assert conn.execute("SELECT 1").fetchone() == (1,)
    pool.close()


def test_a_connection_closed_by_the_server_while_idle_is_replaced(postgres_url: str) -> None:
    pool = make_pool(postgres_url, 1)
    with pool.connection(timeout=1) as conn:
        pid = conn.info.backend_pid
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    time.sleep(0.2)
    with pool.connection(timeout=1) as conn:
        assert conn.info.backend_pid != pid
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert pool.open_count == 1
    pool.close()


def test_a_busy_database_is_a_503_never_stored_false(
    postgres_url: str, classifier: TextClassifier, tmp_path: Path
) -> None:
    settings = make_settings(
        tmp_path, database_url=postgres_url, db_pool_size=1, db_pool_timeout_s=0.3
    )
    with TestClient(create_app(settings, classifier=classifier)) as client:
        repository: Any = client.app.state.repository  # type: ignore[attr-defined]
        assert isinstance(repository, PostgresRepository)
        with repository.pool.connection(timeout=1):  # the only connection, held
            busy = client.post("/predict", json={"text": "The senate passed the bill."})
            patch = client.patch("/predictions/1", json={"corrected_label": None})
        assert busy.status_code == 503, busy.text
        assert busy.json() == {"detail": "database busy, try again later"}
        assert busy.headers["retry-after"] == "2"
        assert patch.status_code == 503
        after = client.post("/predict", json={"text": "The senate passed the bill."})
        assert after.status_code == 200 and after.json()["stored"] is True
