"""The PostgreSQL connection pool (psycopg_pool, as app/postgres.py configures it) on a real
PostgreSQL: never more than DB_POOL_SIZE connections, borrowers wait for one to come back, a
bounded wait ends in DatabaseBusy (the API's 503 "database busy", never `stored: false`), and a
connection the server closed while idle is replaced rather than handed out."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.postgres import PostgresRepository
from app.repository import DatabaseBusy
from ml.model import TextClassifier
from tests.conftest import make_settings


def api_backends(url: str) -> set[int]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'prediction-api'"
            " AND datname = current_database()"
        ).fetchall()
    return {int(row[0]) for row in rows}


def test_borrowers_wait_for_a_connection_and_never_exceed_the_bound(postgres_url: str) -> None:
    repository = PostgresRepository(postgres_url, pool_size=2, pool_timeout_s=30)
    inside = 0
    most = 0
    lock = threading.Lock()

    def borrow() -> None:
        nonlocal inside, most
        with repository._connect() as conn:
            with lock:
                inside += 1
                most = max(most, inside)
            conn.execute("SELECT pg_sleep(0.05)")
            with lock:
                inside -= 1

    try:
        threads = [threading.Thread(target=borrow) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert most == 2
        assert len(api_backends(postgres_url)) == 2
    finally:
        repository.close()


def test_a_bounded_wait_ends_in_database_busy(postgres_url: str) -> None:
    repository = PostgresRepository(postgres_url, pool_size=1, pool_timeout_s=0.4)
    try:
        with repository._connect():  # the only connection, held
            started = time.monotonic()
            with (
                pytest.raises(DatabaseBusy, match=r"no database connection free within 0\.4 s"),
                repository._connect(),
            ):
                pass
            assert 0.35 < time.monotonic() - started < 2
        with repository._connect() as conn:  # free again
            assert conn.execute("SELECT 1 AS n").fetchone() == {"n": 1}
    finally:
        repository.close()


def test_a_connection_closed_by_the_server_while_idle_is_replaced(postgres_url: str) -> None:
    repository = PostgresRepository(postgres_url, pool_size=1, pool_timeout_s=5)
    try:
        with repository._connect() as conn:
            pid = conn.info.backend_pid
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        time.sleep(0.2)
        with repository._connect() as conn:
            assert conn.info.backend_pid != pid
            assert conn.execute("SELECT 1 AS n").fetchone() == {"n": 1}
        assert api_backends(postgres_url) == {conn.info.backend_pid}
    finally:
        repository.close()


def test_connections_carry_the_timeouts_and_a_durable_commit(postgres_url: str) -> None:
    repository = PostgresRepository(
        postgres_url, pool_size=1, statement_timeout_s=2.5, lock_timeout_s=0.75
    )
    try:
        with repository._connect() as conn:
            row = conn.execute(
                "SELECT current_setting('statement_timeout') AS s,"
                " current_setting('lock_timeout') AS l,"
                " current_setting('synchronous_commit') AS c"
            ).fetchone()
        # the test clusters run with synchronous_commit=off: the API's sessions turn it on
        assert row == {"s": "2500ms", "l": "750ms", "c": "on"}
    finally:
        repository.close()


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
            health = client.get("/health").json()
        assert busy.status_code == 503, busy.text
        assert busy.json() == {"detail": "database busy, try again later"}
        assert busy.headers["retry-after"] == "2"
        assert patch.status_code == 503
        assert (health["status"], health["database"]["status"]) == ("degraded", "busy")
        after = client.post("/predict", json={"text": "The senate passed the bill."})
        assert after.status_code == 200 and after.json()["stored"] is True
