"""Faults under load, against the real server (`python -m app`): nothing answered `stored: true`
is ever lost.

- the API process killed (SQLite and PostgreSQL): every id answered `stored: true` before the
  kill is in the table; a new process serves the same table;
- one of the API's PostgreSQL backends killed: the server restarts every backend (crash
  recovery); meanwhile predictions are `stored: false` (down) or 503 (busy), then stored again
  without a restart of the API; every id answered `stored: true` is in the table;
- the database unreachable for a while (a proxy in front of it refuses and cuts connections):
  every prediction is answered 200, `stored: false` while it is down, stored again after.

Each scenario prints its figures (`pytest -s`): requests tried, answered right, 5xx, lost.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.conftest import (
    Server,
    TcpProxy,
    api_env,
    empty_predictions,
    free_port,
    running_api,
)

TEXTS = ("The senate passed the bill.", "The striker scored twice.", "The new phone is fast.")


@dataclass
class Load:
    """Client threads posting predictions one after another until stopped."""

    server: Server
    threads: int = 8
    answers: list[tuple[int | None, Any]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> Load:
        for i in range(self.threads):
            worker = threading.Thread(target=self._run, args=(i,), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=30)

    def _run(self, i: int) -> None:
        host, port = self.server.base_url.removeprefix("http://").split(":")
        n = 0
        while not self._stop.is_set():
            n += 1
            body = json.dumps({"text": TEXTS[(i + n) % 3]}).encode()
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            try:
                conn.request("POST", "/predict", body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                answer: tuple[int | None, Any] = (response.status, json.loads(response.read()))
            except (OSError, http.client.HTTPException, ValueError):
                answer = (None, None)  # no answer: the server is gone
                time.sleep(0.05)
            finally:
                conn.close()
            with self._lock:
                self.answers.append(answer)

    def count(self) -> int:
        with self._lock:
            return len(self.answers)


def figures(name: str, answers: list[tuple[int | None, Any]], ids: set[int]) -> dict[str, int]:
    stored = {body["id"] for status, body in answers if status == 200 and body["stored"]}
    counts = {
        "tried": len(answers),
        "stored": len(stored),
        "stored_false": sum(1 for s, b in answers if s == 200 and not b["stored"]),
        "5xx": sum(1 for s, _ in answers if s is not None and s >= 500),
        "no_answer": sum(1 for s, _ in answers if s is None),
        "lost": len(stored - ids),
    }
    print(f"\n{name}: {counts}")
    return counts


def wait_for(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {seconds} s"
        time.sleep(0.05)


def postgres_ids(url: str) -> set[int]:
    with psycopg.connect(url) as conn:
        return {int(row[0]) for row in conn.execute("SELECT id FROM predictions")}


def sqlite_ids(path: Path) -> set[int]:
    with sqlite3.connect(path) as conn:
        return {int(row[0]) for row in conn.execute("SELECT id FROM predictions")}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_api_killed_under_load_loses_no_stored_prediction(
    backend: str, tmp_path: Path, fast_model_path: Path, request: pytest.FixtureRequest
) -> None:
    sqlite_path = tmp_path / "predictions.sqlite3"
    env = api_env(
        MODEL_PATH=str(fast_model_path),
        SQLITE_PATH=str(sqlite_path),
        PORT=str(free_port()),
        HOST="127.0.0.1",
    )
    url = ""
    if backend == "postgresql":
        url = request.getfixturevalue("postgres_url")
        empty_predictions(url)
        env["DATABASE_URL"] = url
    with running_api(env, tmp_path / "server.log") as server:
        with Load(server) as load:
            wait_for(lambda: load.count() >= 150, 60, "150 answers")
            os.kill(server.process.pid, signal.SIGKILL)
            server.process.wait()
            wait_for(lambda: load.count() >= 160, 30, "answers after the kill")
        answers = list(load.answers)
    ids = postgres_ids(url) if url else sqlite_ids(sqlite_path)
    counts = figures(f"API killed (kill -9), {backend}", answers, ids)
    assert counts["lost"] == 0
    assert counts["stored"] >= 100
    assert counts["stored_false"] == counts["5xx"] == 0

    env["PORT"] = str(free_port())
    with running_api(env, tmp_path / "again.log") as again:
        host, port = again.base_url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.request("GET", "/predictions?limit=1")
        page = json.loads(conn.getresponse().read())
        conn.close()
    assert page["total"] == len(ids)


def test_a_postgres_backend_killed_under_load_loses_no_stored_prediction(
    postgres_url: str, tmp_path: Path, fast_model_path: Path
) -> None:
    empty_predictions(postgres_url)
    env = api_env(
        MODEL_PATH=str(fast_model_path),
        DATABASE_URL=postgres_url,
        PORT=str(free_port()),
        HOST="127.0.0.1",
    )
    with running_api(env, tmp_path / "server.log") as server:
        with Load(server) as load:
            wait_for(lambda: load.count() >= 150, 60, "150 answers")
            with psycopg.connect(postgres_url, autocommit=True) as admin:
                pids = [
                    int(row[0])
                    for row in admin.execute(
                        "SELECT pid FROM pg_stat_activity WHERE application_name = 'prediction-api'"
                    )
                ]
            killed_at = load.count()
            os.kill(pids[0], signal.SIGKILL)  # the postmaster then restarts every backend
            wait_for(
                lambda: any(s == 200 and b["stored"] for s, b in load.answers[killed_at + 20 :]),
                60,
                "stored: true after the crash recovery",
            )
        answers = list(load.answers)
    counts = figures("PostgreSQL backend killed (kill -9)", answers, postgres_ids(postgres_url))
    assert counts["lost"] == 0
    assert counts["no_answer"] == 0
    assert all(s in (200, 503) for s, _ in answers), {s for s, _ in answers}
    assert "Traceback" not in server.log()


def test_a_database_down_under_load_is_stored_false_then_stored_again(
    postgres_url: str, tmp_path: Path, fast_model_path: Path
) -> None:
    empty_predictions(postgres_url)
    real = urlsplit(postgres_url)
    assert real.hostname is not None and real.port is not None
    proxy = TcpProxy(real.hostname, real.port)
    proxy.start()
    env = api_env(
        MODEL_PATH=str(fast_model_path),
        DATABASE_URL=postgres_url.replace(f":{real.port}/", f":{proxy.port}/"),
        PORT=str(free_port()),
        HOST="127.0.0.1",
    )
    try:
        with running_api(env, tmp_path / "server.log") as server, Load(server) as load:
            wait_for(lambda: load.count() >= 100, 60, "100 answers")
            proxy.stop()
            down_at = load.count()
            wait_for(lambda: load.count() >= down_at + 100, 60, "100 answers while down")
            host, port = server.base_url.removeprefix("http://").split(":")
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            conn.request("GET", "/health")
            health = json.loads(conn.getresponse().read())
            conn.close()
            proxy.start()
            up_at = load.count()
            wait_for(
                lambda: any(s == 200 and b["stored"] for s, b in load.answers[up_at + 20 :]),
                60,
                "stored: true after the database came back",
            )
            answers = list(load.answers)
    finally:
        proxy.stop()
    counts = figures("database down (unreachable)", answers, postgres_ids(postgres_url))
    assert counts["lost"] == 0
    assert counts["5xx"] == counts["no_answer"] == 0
    assert counts["stored_false"] >= 50
    assert (health["status"], health["database"]["status"]) == ("degraded", "down")
