"""A server process: started in a process group of its own with its output in a log file,
waited for until it answers, stopped (the group: SIGTERM, then SIGKILL).

    with api_server(tmp_path / "api.log", MODEL_PATH=str(model)) as server:   # python -m app
        httpx.get(f"{server.base_url}/health")
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from types import TracebackType

from week_testkit import API_DIR, SetupError
from week_testkit.ports import free_port
from week_testkit.processes import ProcessGroups, cpu_seconds

READY_TIMEOUT_S = 120.0  # a cold start imports scikit-learn; CI machines can be slow and busy


def http_ok(url: str, timeout_s: float = 2) -> bool:
    """True when GET `url` answers 2xx."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


class ServerProcess:
    """`command` run in `cwd` with `env` (the whole environment; None: this process's), its
    output in `log_path`, serving on 127.0.0.1:`port`. `groups` records the process group (see
    ProcessGroups); by default nothing is recorded."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        port: int,
        log_path: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        name: str = "server",
        groups: ProcessGroups | None = None,
    ) -> None:
        self.command = list(command)
        self.port = port
        self.log_path = log_path
        self.env = env
        self.cwd = cwd
        self.name = name
        self.groups = groups if groups is not None else ProcessGroups()
        self._process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        """time.perf_counter() just before the process was started"""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    url = base_url

    # ---------------------------------------------------------------------- lifecycle

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as out:
            self.started_at = time.perf_counter()
            self._process = self.groups.start(
                self.name, self.command, stdout=out, env=self.env, cwd=self.cwd
            )

    def wait_ready(
        self, ready: Callable[[], bool] | None = None, timeout_s: float = READY_TIMEOUT_S
    ) -> float:
        """Poll `ready` (default: GET /health answers 2xx) until it says yes; return the seconds
        since the start. SetupError if the process exits or `timeout_s` passes first."""
        check = ready or (lambda: http_ok(f"{self.base_url}/health"))
        deadline = time.perf_counter() + timeout_s
        while True:
            code = self.process.poll()
            if code is not None:
                raise SetupError(f"{self.name} exited with {code}:\n{self.log_tail()}")
            if check():
                return time.perf_counter() - self.started_at
            if time.perf_counter() > deadline:
                raise SetupError(
                    f"{self.name} not ready within {timeout_s:.0f} s:\n{self.log_tail()}"
                )
            time.sleep(0.02)

    def stop(self, grace_s: float = 15) -> None:
        if self._process is not None:
            self.groups.stop(self.process, grace_s=grace_s)

    def __enter__(self) -> ServerProcess:
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # ---------------------------------------------------------------------- what it offers

    @property
    def process(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise SetupError(f"{self.name} was not started")
        return self._process

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the server's process tree so far."""
        return cpu_seconds(self.pid) if self._process is not None else 0.0

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def log_lines(self, level: str) -> list[str]:
        """The log's lines at `level` (ERROR, WARNING...)."""
        return [
            line
            for line in self.log().splitlines()
            if f" {level} " in line or line.startswith(level)
        ]


# ------------------------------------------------------------------------------ the API


@cache
def _api_setting_names(api_dir: Path) -> frozenset[str]:
    """The API's own list of its environment variables (app.core.config.Settings)."""
    if str(api_dir) not in sys.path:
        sys.path.append(str(api_dir))
    config = importlib.import_module("app.core.config")
    return frozenset(str(name).upper() for name in config.Settings.model_fields)


def api_env(api_dir: Path = API_DIR, **values: str) -> dict[str, str]:
    """This environment without any of the API's settings (a developer's DATABASE_URL, say),
    plus `values`, with the API's folder on PYTHONPATH."""
    names = _api_setting_names(api_dir)
    env = {k: v for k, v in os.environ.items() if k.upper() not in names}
    env.update(values, PYTHONPATH=str(api_dir), PYTHONUNBUFFERED="1")
    return env


def api_command(python: str = sys.executable) -> list[str]:
    """The API as its container starts it (lambdas-src/api/Dockerfile's CMD)."""
    return [python, "-m", "app"]


def api_server(
    log_path: Path,
    *,
    api_dir: Path = API_DIR,
    python: str = sys.executable,
    port: int | None = None,
    groups: ProcessGroups | None = None,
    name: str = "api",
    **settings: str,
) -> ServerProcess:
    """`python -m app` on a loopback port (free unless given), with `settings` as its
    environment (MODEL_PATH, DATABASE_URL, SQLITE_PATH, LOG_LEVEL...), not started yet:
    use it in a `with` block, or start() and wait_ready() it."""
    port = port or free_port()
    env = api_env(api_dir, HOST="127.0.0.1", PORT=str(port), **settings)
    return ServerProcess(
        api_command(python),
        port=port,
        log_path=log_path,
        env=env,
        cwd=api_dir,
        name=name,
        groups=groups,
    )
