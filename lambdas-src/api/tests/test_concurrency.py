"""No prediction lost under concurrency, on either database (issue 10, section 1).

A real server (`python -m app`) takes N concurrent writers, each on its own connection:
- PostgreSQL: a cluster of our own started with max_connections=20, 200 concurrent
  POST /predict then 200 concurrent PATCH: every answer is a 200, every prediction answered
  `stored: true` is in the table with the answered id, and the counts match; the API never holds
  more connections than its pool allows, even when DB_POOL_SIZE asks for more than the server has.
- SQLite: 10 and 40 concurrent writers, one and two server processes: same checks.
- Listing by key (`before`) while predictions are inserted returns no duplicate.
"""

from __future__ import annotations

import http.client
import json
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import Server, api_env, free_port, postgres_cluster, running_api

TEXTS = ("The senate passed the bill.", "The striker scored twice.", "A new phone was released.")


def call(server: Server, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    host, port = server.base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    try:
        payload = None if body is None else json.dumps(body).encode()
        conn.request(method, path, body=payload, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    finally:
        conn.close()


def concurrently(n: int, job: Any) -> list[Any]:
    """Run job(i) for i in range(n) on n threads released together."""
    barrier = threading.Barrier(n)

    def run(i: int) -> Any:
        barrier.wait()
        return job(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def post_predictions(server: Server, n: int) -> list[tuple[int, Any]]:
    return concurrently(n, lambda i: call(server, "POST", "/predict", {"text": TEXTS[i % 3]}))


def check_all_stored(answers: list[tuple[int, Any]], table_ids: set[int]) -> None:
    statuses = sorted({status for status, _ in answers})
    assert statuses == [200], [a for a in answers if a[0] != 200][:3]
    stored = [body for _, body in answers if body["stored"]]
    lost = len(answers) - len(stored)
    assert lost == 0, f"{lost} of {len(answers)} predictions answered stored: false"
    answered_ids = {body["id"] for body in stored}
    assert len(answered_ids) == len(answers)  # one row each, no id given twice
    assert answered_ids == table_ids  # every answered id is in the table, and nothing else


# ------------------------------------------------------------------------------ PostgreSQL


@pytest.fixture(scope="module")
def small_postgres() -> Iterator[str]:
    with postgres_cluster(max_connections=20) as url:
        yield url


def table_ids_postgres(url: str) -> set[int]:
    with psycopg.connect(url) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM predictions")}


def api_connections(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'prediction-api'"
        ).fetchone()
    return int(row[0]) if row else 0


@pytest.mark.parametrize("pool_size", ["5", "50"], ids=["pool-5", "pool-50-fitted-to-server"])
def test_200_concurrent_writers_on_a_postgres_of_20_connections_lose_nothing(
    small_postgres: str, fast_model_path: Path, tmp_path: Path, pool_size: str
) -> None:
    with psycopg.connect(small_postgres, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS predictions")
    env = api_env(
        MODEL_PATH=str(fast_model_path),
        DATABASE_URL=small_postgres,
        PORT=str(free_port()),
        HOST="127.0.0.1",
        DB_POOL_SIZE=pool_size,
    )
    with running_api(env, tmp_path / "server.log") as server:
        answers = post_predictions(server, 200)
        check_all_stored(answers, table_ids_postgres(small_postgres))
        assert api_connections(small_postgres) <= 17  # 20 - 3 reserved - 2 kept free... or less

        ids = [body["id"] for _, body in answers]
        labels = ("politics", "sport", "tech")
        patched = concurrently(
            200,
            lambda i: call(
                server, "PATCH", f"/predictions/{ids[i]}", {"corrected_label": labels[i % 3]}
            ),
        )
        assert sorted({status for status, _ in patched}) == [200], patched[:3]
        with psycopg.connect(small_postgres) as conn:
            rows: dict[int, str] = dict(
                conn.execute("SELECT id, corrected_label FROM predictions").fetchall()
            )
        assert rows == {ids[i]: labels[i % 3] for i in range(200)}
    if pool_size == "50":
        assert "would exceed the server's 17 connections" in server.log()


# ------------------------------------------------------------------------------ SQLite


def table_ids_sqlite(path: Path) -> set[int]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM predictions")}


@pytest.mark.parametrize(("writers", "processes"), [(10, "1"), (40, "1"), (40, "2")])
def test_concurrent_writers_on_sqlite_lose_nothing(
    fast_model_path: Path, tmp_path: Path, writers: int, processes: str
) -> None:
    database = tmp_path / "predictions.sqlite3"
    env = api_env(
        MODEL_PATH=str(fast_model_path),
        SQLITE_PATH=str(database),
        PORT=str(free_port()),
        HOST="127.0.0.1",
        WEB_CONCURRENCY=processes,
    )
    with running_api(env, tmp_path / "server.log") as server:
        answers = post_predictions(server, writers)
        check_all_stored(answers, table_ids_sqlite(database))
        ids = [body["id"] for _, body in answers]
        patched = concurrently(
            writers,
            lambda i: call(server, "PATCH", f"/predictions/{ids[i]}", {"corrected_label": "tech"}),
        )
        assert sorted({status for status, _ in patched}) == [200], patched[:3]
    assert "database is locked" not in server.log()


# ------------------------------------------------------------------------------ listing


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_listing_by_key_under_concurrent_inserts_has_no_duplicate(
    fast_model_path: Path, tmp_path: Path, small_postgres: str, backend: str
) -> None:
    env = api_env(
        MODEL_PATH=str(fast_model_path),
        SQLITE_PATH=str(tmp_path / "p.sqlite3"),
        PORT=str(free_port()),
        HOST="127.0.0.1",
    )
    if backend == "postgresql":
        with psycopg.connect(small_postgres, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS predictions")
        env["DATABASE_URL"] = small_postgres
    with running_api(env, tmp_path / "server.log") as server:
        post_predictions(server, 30)
        stop = threading.Event()

        def insert() -> None:
            while not stop.is_set():
                call(server, "POST", "/predict", {"text": TEXTS[0]})

        writer = threading.Thread(target=insert)
        writer.start()
        try:
            seen: list[int] = []
            status, page = call(server, "GET", "/predictions?limit=3")
            while True:
                assert status == 200, page
                seen += [item["id"] for item in page["items"]]
                if page["next_before"] is None:
                    break
                status, page = call(
                    server, "GET", f"/predictions?limit=3&before={page['next_before']}"
                )
        finally:
            stop.set()
            writer.join()
    assert len(seen) == len(set(seen)), "a prediction was listed twice"
    assert seen == sorted(seen, reverse=True)
    assert len(seen) >= 30
