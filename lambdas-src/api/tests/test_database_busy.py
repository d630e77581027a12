"""A PostgreSQL that is up but busy, against the real server (`python -m app`):

- another client holds every connection slot ("too many clients", "remaining connection slots
  are reserved"): predictions are 503 with Retry-After within about DB_POOL_TIMEOUT_S, or 200
  `stored: true` on a connection the API already had; never `stored: false`; /health degraded;
- the table is locked for 20 s with DB_POOL_TIMEOUT_S=3: every request answers 503 within
  about the timeout (the server's lock_timeout), not after 20 s; /health degraded;
- a lock wait longer than the statement timeout is cancelled by the server, also a 503.

Every answer `stored: true` is in the table afterwards. Each scenario prints its figures
(`pytest -s`): requests tried, answered right, 5xx, lost.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import secrets
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.postgres import is_busy
from ml.model import TextClassifier
from tests.conftest import (
    Server,
    api_env,
    empty_predictions,
    free_port,
    make_settings,
    running_api,
    with_database,
)

TEXTS = ("The senate passed the bill.", "The striker scored twice.", "The new phone is fast.")


@dataclass
class Answer:
    status: int
    body: Any
    retry_after: str | None
    seconds: float


def call(server: Server, method: str, path: str, body: Any = None) -> Answer:
    host, port = server.base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    started = time.monotonic()
    try:
        payload = None if body is None else json.dumps(body).encode()
        conn.request(method, path, payload, {"Content-Type": "application/json"})
        response = conn.getresponse()
        raw = response.read()
        return Answer(
            response.status,
            json.loads(raw) if raw else None,
            response.getheader("Retry-After"),
            time.monotonic() - started,
        )
    finally:
        conn.close()


def predict_many(server: Server, n: int, threads: int = 32) -> list[Answer]:
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(
            pool.map(lambda i: call(server, "POST", "/predict", {"text": TEXTS[i % 3]}), range(n))
        )


def table_ids(url: str) -> set[int]:
    with psycopg.connect(url) as conn:
        return {int(row[0]) for row in conn.execute("SELECT id FROM predictions")}


def figures(name: str, answers: list[Answer], url: str) -> dict[str, int]:
    """Check every answer is right (200 stored: true, or 503 with Retry-After) and nothing that
    answered stored: true is missing from the table; print the figures."""
    stored = {a.body["id"] for a in answers if a.status == 200 and a.body["stored"] is True}
    right = [
        a
        for a in answers
        if (a.status == 200 and a.body["stored"] is True)
        or (a.status == 503 and a.retry_after is not None)
    ]
    counts = {
        "tried": len(answers),
        "right": len(right),
        "stored": len(stored),
        "5xx": sum(1 for a in answers if a.status >= 500),
        "stored_false": sum(1 for a in answers if a.status == 200 and a.body["stored"] is False),
        "lost": len(stored - table_ids(url)),
        "slowest_ms": round(1000 * max(a.seconds for a in answers)),
    }
    print(f"\n{name}: {counts}")
    return counts


@contextlib.contextmanager
def every_slot_held(url: str) -> Iterator[list[psycopg.Connection[Any]]]:
    """Open connections (as the superuser: the reserved slots too) until the server refuses."""
    held: list[psycopg.Connection[Any]] = []
    try:
        while True:
            try:
                held.append(psycopg.connect(url, autocommit=True, connect_timeout=5))
            except psycopg.OperationalError as exc:
                assert "too many clients" in str(exc) or "slots are reserved" in str(exc), exc
                break
            assert len(held) < 1000, "the server never refused a connection"
        yield held
    finally:
        for conn in held:
            conn.close()


@pytest.fixture
def busy_env(postgres_url: str, fast_model_path: Path) -> dict[str, str]:
    empty_predictions(postgres_url)
    return api_env(
        MODEL_PATH=str(fast_model_path),
        DATABASE_URL=postgres_url,
        PORT=str(free_port()),
        HOST="127.0.0.1",
        DB_POOL_TIMEOUT_S="2",
    )


def test_slots_held_by_another_client_after_start_are_503_or_stored_never_stored_false(
    busy_env: dict[str, str], postgres_url: str, tmp_path: Path
) -> None:
    with running_api(busy_env, tmp_path / "server.log") as server:
        warm = predict_many(server, 20)
        assert {a.status for a in warm} == {200}
        with every_slot_held(postgres_url):
            answers = predict_many(server, 400)
        counts = figures("slots held after start", answers, postgres_url)
        after = call(server, "POST", "/predict", {"text": TEXTS[0]})
    assert counts["right"] == counts["tried"], [a for a in answers if a.status != 200][:3]
    assert counts["stored_false"] == 0
    assert counts["lost"] == 0
    assert after.status == 200 and after.body["stored"] is True


def test_slots_held_before_start_are_503_within_the_timeout_and_health_is_degraded(
    busy_env: dict[str, str], postgres_url: str, tmp_path: Path
) -> None:
    with every_slot_held(postgres_url) as held:
        with running_api(busy_env, tmp_path / "server.log") as server:
            answers = predict_many(server, 100)
            health = call(server, "GET", "/health").body
            crud = call(server, "GET", "/predictions")
            for conn in held:
                conn.close()
            held.clear()
            time.sleep(0.5)
            after = [call(server, "POST", "/predict", {"text": TEXTS[1]}) for _ in range(3)]
            after_health = call(server, "GET", "/health").body
        log = server.log()
    counts = figures("slots held before start", answers, postgres_url)
    assert counts["right"] == counts["tried"]
    assert counts["stored_false"] == 0
    assert max(a.seconds for a in answers if a.status == 503) < 2 + 1.5
    assert (health["status"], health["database"]["status"]) == ("degraded", "busy")
    assert crud.status == 503 and crud.retry_after is not None
    assert [a.status for a in after] == [200, 200, 200]
    assert all(a.body["stored"] is True for a in after)
    assert after_health["status"] == "ok" or after_health["database"]["status"] == "busy"
    assert "Traceback" not in log
    assert "not stored" not in log


def test_a_table_locked_20_s_answers_503_within_the_pool_timeout(
    busy_env: dict[str, str], postgres_url: str, tmp_path: Path
) -> None:
    busy_env["DB_POOL_TIMEOUT_S"] = "3"
    with running_api(busy_env, tmp_path / "server.log") as server:
        assert call(server, "POST", "/predict", {"text": TEXTS[0]}).status == 200
        locked = threading.Event()
        release = threading.Event()

        held_s: list[float] = []

        def hold_lock() -> None:
            with psycopg.connect(postgres_url) as conn:
                conn.execute("LOCK TABLE predictions IN ACCESS EXCLUSIVE MODE")
                since = time.monotonic()
                locked.set()
                release.wait(60)
                conn.execute("SELECT 1")  # still in the locking transaction
                held_s.append(time.monotonic() - since)
                conn.rollback()

        holder = threading.Thread(target=hold_lock)
        holder.start()
        assert locked.wait(10)
        started = time.monotonic()
        answers = predict_many(server, 48, threads=16)
        crud = call(server, "GET", "/predictions")
        health = call(server, "GET", "/health").body
        elapsed = time.monotonic() - started
        time.sleep(max(0.0, 20 - elapsed))  # the lock lasts at least its 20 s
        release.set()
        holder.join()
        after = call(server, "POST", "/predict", {"text": TEXTS[2]})
    counts = figures("table locked 20 s", answers, postgres_url)
    assert held_s and held_s[0] >= 19.5, held_s
    assert counts["right"] == counts["tried"]
    assert {a.status for a in answers} == {503}
    assert max(a.seconds for a in answers) < 3 + 1.5, sorted(a.seconds for a in answers)[-3:]
    assert crud.status == 503 and crud.retry_after is not None
    assert (health["status"], health["database"]["status"]) == ("degraded", "busy")
    assert after.status == 200 and after.body["stored"] is True


@pytest.mark.parametrize(
    ("statement_s", "lock_s"), [(0.5, 30.0), (30.0, 0.5)], ids=["statement", "lock"]
)
def test_a_statement_or_lock_past_its_timeout_is_a_503(
    postgres_url: str,
    classifier: TextClassifier,
    tmp_path: Path,
    statement_s: float,
    lock_s: float,
) -> None:
    empty_predictions(postgres_url)
    settings = make_settings(
        tmp_path,
        database_url=postgres_url,
        db_pool_timeout_s=30,
        db_statement_timeout_s=statement_s,
        db_lock_timeout_s=lock_s,
    )
    with TestClient(create_app(settings, classifier=classifier)) as client:
        with psycopg.connect(postgres_url) as holder:
            holder.execute("LOCK TABLE predictions IN SHARE MODE")  # blocks writes only
            started = time.monotonic()
            busy = client.post("/predict", json={"text": TEXTS[0]})
            elapsed = time.monotonic() - started
            listed = client.get("/predictions")
            holder.rollback()
        assert busy.status_code == 503, busy.text
        assert busy.headers["retry-after"] == "2"
        assert 0.4 < elapsed < 3
        assert listed.status_code == 200  # reads are not blocked by a SHARE lock
        assert client.post("/predict", json={"text": TEXTS[0]}).json()["stored"] is True


@pytest.mark.parametrize(
    ("message", "busy"),
    [
        ("connection failed: FATAL:  sorry, too many clients already", True),
        (
            "connection failed: FATAL:  remaining connection slots are reserved for roles"
            " with the SUPERUSER attribute",
            True,
        ),
        ('FATAL:  too many connections for role "week"', True),
        ("connection failed: Connection refused", False),
        ("FATAL:  the database system is shutting down", False),
        ('FATAL:  password authentication failed for user "week"', False),
    ],
)
def test_connection_errors_are_told_apart_busy_or_down(message: str, busy: bool) -> None:
    assert is_busy(psycopg.OperationalError(message)) is busy


def test_a_role_left_with_only_reserved_slots_is_busy_not_down(
    fresh_postgres_url: str, classifier: TextClassifier, tmp_path: Path
) -> None:
    """The API as an ordinary role: when only the superuser's reserved slots are free, its
    connection attempts fail with "remaining connection slots are reserved": a 503."""
    role = f"api_{secrets.token_hex(3)}"
    with psycopg.connect(fresh_postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        database = admin.execute("SELECT current_database()").fetchone()
        assert database is not None
        admin.execute(f'ALTER DATABASE "{database[0]}" OWNER TO "{role}"')
    as_role = fresh_postgres_url.replace("://postgres@", f"://{role}@")
    assert as_role != fresh_postgres_url
    held: list[psycopg.Connection[Any]] = []
    try:
        while True:  # every slot an ordinary role may take
            try:
                held.append(psycopg.connect(as_role, autocommit=True, connect_timeout=5))
            except psycopg.OperationalError as exc:
                assert "remaining connection slots are reserved" in str(exc), exc
                break
        settings = make_settings(tmp_path, database_url=as_role, db_pool_timeout_s=1)
        with TestClient(create_app(settings, classifier=classifier)) as client:
            busy = client.post("/predict", json={"text": TEXTS[0]})
            health = client.get("/health").json()
            for conn in held:
                conn.close()
            held.clear()
            time.sleep(0.3)
            after = client.post("/predict", json={"text": TEXTS[0]})
    finally:
        for conn in held:
            conn.close()
        with psycopg.connect(fresh_postgres_url, autocommit=True) as admin:
            admin.execute(f'REASSIGN OWNED BY "{role}" TO postgres')
            admin.execute(f'DROP OWNED BY "{role}"')
        with psycopg.connect(with_database(fresh_postgres_url, "postgres"), autocommit=True) as a:
            a.execute(f'DROP ROLE IF EXISTS "{role}"')
    assert busy.status_code == 503, busy.text
    assert busy.headers["retry-after"] == "2"
    assert (health["status"], health["database"]["status"]) == ("degraded", "busy")
    assert after.status_code == 200 and after.json()["stored"] is True
