"""Fixtures: tiny models trained once per session, settings, TestClients on SQLite and PostgreSQL,
a real server process, and a TCP proxy that can take the database away and bring it back.

PostgreSQL tests use TEST_POSTGRES_URL (scripts/py-test.sh starts a throw-away cluster and sets
it); without it they are skipped with that reason. Each session works in a database of its own.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from app.core.config import Settings
from app.main import create_app
from ml import algo
from ml.model import TextClassifier, load_model

API_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CSV = API_ROOT / "ml" / "data" / "sample.csv"
CLASSES = ("politics", "sport", "tech")
BACKENDS = ("sqlite", "postgresql")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ------------------------------------------------------------------------------ models


def train_model(out: Path, *extra: str) -> Path:
    code = algo.main(["--data", str(SAMPLE_CSV), "--out", str(out), *extra])
    assert code == 0
    return out


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
def postgres_url() -> Iterator[str]:
    """URL of a fresh database in the test cluster, dropped at the end of the session."""
    base = os.environ.get("TEST_POSTGRES_URL")
    if not base:
        pytest.skip("TEST_POSTGRES_URL is not set (scripts/py-test.sh starts a PostgreSQL)")
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


@dataclass
class Server:
    process: subprocess.Popen[str]
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def api_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.upper() not in _SETTING_NAMES}
    env.update(values)
    env["PYTHONPATH"] = str(API_ROOT)
    return env


_SETTING_NAMES = {name.upper() for name in Settings.model_fields}


def start_api(env: dict[str, str]) -> subprocess.Popen[str]:
    """Start `python -m app` with output captured (for start-up failures)."""
    return subprocess.Popen(
        [sys.executable, "-m", "app"],
        cwd=API_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextlib.contextmanager
def running_api(env: dict[str, str], log_path: Path, ready_s: float = 30) -> Iterator[Server]:
    """Start `python -m app` on PORT from `env`, wait for /health, stop it (SIGTERM) at exit."""
    port = env["PORT"]
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "app"],
            cwd=API_ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
        )
    server = Server(process, base_url, log_path)
    try:
        deadline = time.monotonic() + ready_s
        while True:
            if process.poll() is not None:
                raise AssertionError(f"server exited with {process.returncode}:\n{server.log()}")
            try:
                with urllib.request.urlopen(f"{base_url}/health", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"server not ready in {ready_s} s:\n{server.log()}"
                    ) from exc
                time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


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


def _postgres_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return candidates[0].parent if candidates else None


@contextlib.contextmanager
def postgres_cluster(max_connections: int) -> Iterator[str]:
    """A throw-away PostgreSQL cluster of our own (initdb in a temporary folder that the
    `postgres` user can reach, loopback port), stopped and removed at exit; yields its URL.
    Skips the test where the server binaries are absent."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        pytest.skip("initdb/pg_ctl not found (install the PostgreSQL server binaries)")
    tmp = Path(tempfile.mkdtemp(prefix="api-test-pg."))
    data = tmp / "data"
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        import pwd

        user = pwd.getpwnam("postgres") if _has_user("postgres") else pwd.getpwnam("nobody")
        os.chown(tmp, user.pw_uid, user.pw_gid)
        prefix = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]

    def run(*args: str) -> None:
        subprocess.run(
            [*prefix, *args],
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            check=True,
        )

    run(
        str(bin_dir / "initdb"),
        "-D",
        str(data),
        "-U",
        "postgres",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--no-locale",
        "--no-sync",
    )
    port = free_port()
    options = (
        f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off"
        f" -c synchronous_commit=off -c max_connections={max_connections}"
    )
    ctl = [str(bin_dir / "pg_ctl"), "-D", str(data)]
    run(*ctl, "-l", str(tmp / "server.log"), "-w", "-t", "30", "-o", options, "start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*ctl, "-m", "immediate", "-w", "stop"],
            cwd=tmp,
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(tmp, ignore_errors=True)


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
