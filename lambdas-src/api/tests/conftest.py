"""Fixtures: tiny models trained once per session, settings, TestClients on SQLite and PostgreSQL,
a real server process, and a TCP proxy that can take the database away and bring it back. The
machinery (ports, PostgreSQL clusters, server processes, training) is week_testkit's; the names
below are the ones the tests import.

PostgreSQL tests use TEST_POSTGRES_URL (scripts/test/py-test.sh starts a throw-away cluster and sets
it); without it, a throw-away cluster of the session's own (skipped where the PostgreSQL server
binaries are absent). Each session works in a database of its own.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from week_testkit import models
from week_testkit.fixtures import throwaway_postgres  # noqa: F401  (a fixture)
from week_testkit.ports import free_port as free_port  # the tests import it from here
from week_testkit.postgres import PostgresCluster, find_pg_bin
from week_testkit.server import ServerProcess, api_command
from week_testkit.server import api_env as testkit_api_env

from app.core.config import Settings
from app.main import create_app
from ml.model import TextClassifier, load_model

API_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CSV = API_ROOT / "ml" / "data" / "sample.csv"
CLASSES = ("politics", "sport", "tech")
BACKENDS = ("sqlite", "postgresql")


# ------------------------------------------------------------------------------ models


def train_model(out: Path, *extra: str, data: Path = SAMPLE_CSV) -> Path:
    """`data` (default: the sample) trained into `out` by `python -m ml.algo` with options
    `extra`."""
    return models.train_model(out, *extra, data=data, api_dir=API_ROOT)


@pytest.fixture(scope="session")
def course_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_model(tmp_path_factory.mktemp("models") / "course.joblib")


@pytest.fixture(scope="session")
def fast_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_model(tmp_path_factory.mktemp("models") / "fast.joblib", "--fast")


@pytest.fixture(scope="session")
def classifier(fast_model_path: Path) -> TextClassifier:
    """The API tests use the fast model: same interface, quicker to train."""
    return load_model(fast_model_path)


# ------------------------------------------------------------------------------ settings


class IsolatedSettings(Settings):
    """Settings from the test's arguments only, never from the shell that runs pytest."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": None,
        "sqlite_path": tmp_path / "predictions.sqlite3",
        "model_path": tmp_path / "no-model-needed.joblib",
        **overrides,
    }
    return IsolatedSettings(**values)


# ------------------------------------------------------------------------------ PostgreSQL


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


@pytest.fixture(scope="session")
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a fresh database in the test cluster (TEST_POSTGRES_URL, else a throw-away cluster
    of this session), dropped at the end of the session."""
    base = os.environ.get("TEST_POSTGRES_URL")
    if not base:
        cluster: PostgresCluster = request.getfixturevalue("throwaway_postgres")
        base = cluster.url()
    name = f"api_tests_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(base, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield with_database(base, name)
    with psycopg.connect(base, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> Iterator[str]:
    """An empty database of its own (no predictions table yet) for one test."""
    name = f"{urlsplit(postgres_url).path.lstrip('/')}_{secrets.token_hex(3)}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield with_database(postgres_url, name)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_predictions(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS predictions")


# ------------------------------------------------------------------------------ clients


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for each storage backend, with an empty predictions table."""
    if request.param == "sqlite":
        return make_settings(tmp_path)
    url: str = request.getfixturevalue("postgres_url")
    empty_predictions(url)
    return make_settings(tmp_path, database_url=url)


@pytest.fixture
def client(settings: Settings, classifier: TextClassifier) -> Iterator[TestClient]:
    with TestClient(create_app(settings, classifier=classifier)) as test_client:
        yield test_client


def stored_count(client: TestClient) -> int:
    _, total = client.app.state.repository.list_page(1, 0)  # type: ignore[attr-defined]
    return int(total)


# ------------------------------------------------------------------------------ processes


Server = ServerProcess
"""A server process we started: `base_url`, `log()`, `process`."""


def api_env(**values: str) -> dict[str, str]:
    """This environment without the API's settings, plus `values`, the API on PYTHONPATH."""
    return testkit_api_env(API_ROOT, **values)


def start_api(env: dict[str, str]) -> subprocess.Popen[str]:
    """Start `python -m app` with output captured (for start-up failures)."""
    return subprocess.Popen(
        api_command(),
        cwd=API_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextlib.contextmanager
def running_api(env: dict[str, str], log_path: Path, ready_s: float = 30) -> Iterator[Server]:
    """Start `python -m app` on PORT from `env`, wait for /health, stop it (SIGTERM) at exit."""
    server = ServerProcess(
        api_command(), port=int(env["PORT"]), log_path=log_path, env=env, cwd=API_ROOT, name="api"
    )
    server.start()
    try:
        server.wait_ready(timeout_s=ready_s)
        yield server
    finally:
        server.stop(grace_s=10)


# ------------------------------------------------------------------------------ TCP proxy


class TcpProxy:
    """A loopback TCP forwarder to `target`; `stop()` makes the port refuse connections and cuts
    the open ones, as a database that goes down; `start()` brings it back on the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)


# ------------------------------------------------------------------------------ own clusters


@contextlib.contextmanager
def postgres_cluster(max_connections: int) -> Iterator[str]:
    """A throw-away PostgreSQL cluster of our own (week_testkit.postgres), stopped and removed
    at exit; yields its URL. Skips the test where the server binaries are absent."""
    if find_pg_bin() is None:
        pytest.skip("initdb/pg_ctl not found (install the PostgreSQL server binaries)")
    with PostgresCluster(max_connections=max_connections) as cluster:
        yield cluster.url()
