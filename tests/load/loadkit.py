"""What only the load tests need, free of pytest (the fixtures are in conftest.py): settings
from the environment, servers of the API recorded in the run folder, and the resident memory of
a process tree sampled in the background. The machinery every suite shares (PostgreSQL, ports,
process groups, server processes, wrk and its output, training) is week_testkit's."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from week_testkit import API_DIR
from week_testkit.processes import ProcessGroups, rss_bytes
from week_testkit.server import ServerProcess, api_server
from week_testkit.wrk import Wrk

MIB = 1024 * 1024


def say(message: str) -> None:
    """Progress on stderr, so that a long run shows where it is (pytest -s)."""
    print(f"load: {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ settings


def seconds_from_env(name: str, default: int, minimum: int, maximum: int = 3600) -> int:
    """A whole number of seconds from the environment variable `name`, checked."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not minimum <= int(raw) <= maximum:
        raise ValueError(
            f"{name} must be a whole number of seconds between {minimum} and {maximum}, got {raw!r}"
        )
    return int(raw)


@dataclass(frozen=True)
class LoadSettings:
    load_seconds: int
    """each measured wrk run (POST /predict, then GET /); LOAD_SECONDS, default 60"""
    fault_seconds: int
    """the wrk run during which PostgreSQL is stopped and started; FAULT_SECONDS, default 20"""
    connections: int = 32
    threads: int = 2

    @property
    def warmup_seconds(self) -> int:
        """The run before the measured one, after which memory is taken as the baseline."""
        return max(2, min(15, self.load_seconds // 4))

    @classmethod
    def from_env(cls) -> LoadSettings:
        return cls(
            load_seconds=seconds_from_env("LOAD_SECONDS", 60, minimum=1),
            fault_seconds=seconds_from_env("FAULT_SECONDS", 20, minimum=10),
        )


# ------------------------------------------------------------------------------ the API


def stored_rows(url: str) -> int:
    with psycopg.connect(url, connect_timeout=10) as conn:
        row = conn.execute("SELECT count(*) FROM predictions").fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class Tools:
    wrk: Wrk
    pg_bin: Path


@dataclass(frozen=True)
class ApiServers:
    groups: ProcessGroups
    run_dir: Path
    model_path: Path
    database_url: str

    @contextlib.contextmanager
    def running(self, name: str, api_dir: Path = API_DIR) -> Iterator[ServerProcess]:
        """`python -m app` on a free loopback port, ready (GET /health answers), stopped at the
        end. LOG_LEVEL=warning: no access log line per request, the warnings still written.
        api_dir: another copy of lambdas-src/api to serve (the student edition's)."""
        server = api_server(
            self.run_dir / f"api-{name}.log",
            api_dir=api_dir,
            groups=self.groups,
            name=f"api-{name}",
            python=sys.executable,
            MODEL_PATH=str(self.model_path),
            DATABASE_URL=self.database_url,
            LOG_LEVEL="warning",
        )
        with server:
            yield server


# ------------------------------------------------------------------------------ memory


class RssSampler:
    """Samples `rss_bytes(pid)` every `interval_s` in a background thread."""

    def __init__(self, pid: int, interval_s: float = 1.0) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.samples: list[tuple[float, int]] = []
        """(time.monotonic(), bytes)"""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval_s)

    def sample(self) -> int:
        value = rss_bytes(self.pid)
        self.samples.append((time.monotonic(), value))
        return value

    def between(self, start: float, end: float) -> list[tuple[float, int]]:
        return [(t, v) for t, v in self.samples if start <= t <= end]


def slope_per_minute(samples: Sequence[tuple[float, int]]) -> float:
    """Least-squares slope of (seconds, bytes) samples, in bytes per minute."""
    if len(samples) < 2:
        raise ValueError("a slope needs at least two samples")
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    var_t = sum((t - mean_t) ** 2 for t, _ in samples)
    if var_t == 0:
        raise ValueError("a slope needs samples at different times")
    cov = sum((t - mean_t) * (v - mean_v) for t, v in samples)
    return cov / var_t * 60
