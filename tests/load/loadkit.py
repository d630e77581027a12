"""What the load tests drive, free of pytest (the fixtures are in conftest.py): settings from
the environment, process groups that a crash cannot leave behind, a throw-away PostgreSQL
cluster, servers of the API, wrk (its command line and its output), and the resident memory of
a process tree sampled in the background."""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import psycopg

REPO = Path(__file__).resolve().parents[2]
API_ROOT = REPO / "lambdas-src" / "api"
SAMPLE_CSV = API_ROOT / "ml" / "data" / "sample.csv"
LUA_SCRIPT = Path(__file__).with_name("wrk_counts.lua")
READY_TIMEOUT_S = 120  # a cold start imports scikit-learn; CI machines can be slow and busy
MIB = 1024 * 1024
COUNT_KEYS = ("2xx", "non2xx", "3xx", "4xx", "5xx", "503", "stored_true", "stored_false")

sys.path.insert(0, str(API_ROOT))
from app.core.config import Settings  # noqa: E402  (the API's own list of its variables)


def say(message: str) -> None:
    """Progress on stderr, so that a long run shows where it is (pytest -s)."""
    print(f"load: {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


# ------------------------------------------------------------------------------ processes


class ProcessGroups:
    """Starts long-lived processes each in a new session (process group) and records its id as
    a file in `folder`; scripts/load-test.sh kills the groups still recorded there on exit, so a
    pytest that dies without running its finally blocks leaves nothing behind."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def start(
        self,
        name: str,
        args: Sequence[str],
        *,
        stdout: IO[bytes] | int,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        (self.folder / f"{name}.{process.pid}").write_text(f"{process.pid}\n")
        return process

    def stop(self, process: subprocess.Popen[bytes], grace_s: float = 15) -> None:
        """SIGTERM to the whole group, SIGKILL after `grace_s`; then forget the group."""
        for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 10.0)):
            if process.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=wait_s)
        for record in self.folder.glob(f"*.{process.pid}"):
            record.unlink(missing_ok=True)


# ------------------------------------------------------------------------------ PostgreSQL


def find_pg_bin() -> Path | None:
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return Path(pg_ctl).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    return versions[-1].parent if versions else None


class PostgresCluster:
    """A throw-away cluster as scripts/py-test.sh makes one: initdb in `folder`, trust
    authentication, loopback only, no durability (fsync and synchronous commit off, which only
    matters for a crash of the machine). initdb and postgres refuse to run as root: as root,
    they run as the postgres user (nobody if there is none) through setpriv."""

    def __init__(self, pg_bin: Path, folder: Path) -> None:
        self.pg_bin = pg_bin
        self.folder = folder
        self.data = folder / "data"
        self.log = folder / "server.log"
        self.port = 0
        self._as_user: list[str] = []
        folder.mkdir()
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                user = pwd.getpwnam("nobody")
            os.chown(folder, user.pw_uid, user.pw_gid)
            self._as_user = [
                "setpriv",
                f"--reuid={user.pw_uid}",
                f"--regid={user.pw_gid}",
                "--clear-groups",
            ]

    def _run(self, tool: str, *args: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        return subprocess.run(
            [*self._as_user, str(self.pg_bin / tool), *args],
            cwd=self.folder,  # the postgres user may not read the caller's directory
            env=env,
            capture_output=True,  # pg_ctl sends the server's own output to -l
            text=True,
            timeout=timeout_s,
            check=False,
        )

    def _fail(self, what: str, done: subprocess.CompletedProcess[str]) -> RuntimeError:
        tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
        return RuntimeError(f"{what} failed ({done.returncode}): {done.stdout}{done.stderr}{tail}")

    def init(self) -> None:
        done = self._run(
            "initdb",
            *("-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8"),
            *("--no-locale", "--no-sync"),
            timeout_s=180,
        )
        if done.returncode != 0:
            raise self._fail("initdb", done)

    def start(self) -> None:
        """Start on `port`: a free one the first time (three tries), the same one afterwards."""
        tries = 1 if self.port else 3
        for attempt in range(tries):
            port = self.port or free_port()
            options = (
                f"-p {port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
                " -c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
            )
            done = self._run(
                "pg_ctl",
                *("-D", str(self.data), "-l", str(self.log), "-w", "-t", "90", "-o", options),
                "start",
                timeout_s=120,
            )
            if done.returncode == 0:
                self.port = port
                return
            if attempt == tries - 1:
                raise self._fail(f"pg_ctl start on port {port}", done)

    def stop(self, mode: str = "fast") -> None:
        done = self._run(
            "pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "90", "stop", timeout_s=120
        )
        if done.returncode != 0:
            raise self._fail(f"pg_ctl stop -m {mode}", done)

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def version(self) -> str:
        done = subprocess.run(
            [str(self.pg_bin / "postgres"), "--version"], capture_output=True, text=True
        )
        found = re.search(r"\d+(\.\d+)+", done.stdout)  # postgres (PostgreSQL) 15.18 (Debian ...)
        return found[0] if found else "?"


def stored_rows(url: str) -> int:
    with psycopg.connect(url, connect_timeout=10) as conn:
        row = conn.execute("SELECT count(*) FROM predictions").fetchone()
    return int(row[0]) if row else 0


# ------------------------------------------------------------------------------ the API


_SETTING_NAMES = {name.upper() for name in Settings.model_fields}


def api_env(**values: str) -> dict[str, str]:
    """This environment without any of the API's settings (a developer's DATABASE_URL, say),
    plus `values`."""
    env = {k: v for k, v in os.environ.items() if k.upper() not in _SETTING_NAMES}
    env.update(values, PYTHONPATH=str(API_ROOT), PYTHONUNBUFFERED="1")
    return env


def train_model(out: Path) -> Path:
    """The sample model, trained with the fast pipeline (same interface, quicker to train)."""
    done = subprocess.run(
        [sys.executable, "-m", "ml.algo", "--data", str(SAMPLE_CSV), "--out", str(out), "--fast"],
        cwd=API_ROOT,
        env=api_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"training failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return out


@dataclass(frozen=True)
class ApiServer:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def log_lines(self, level: str) -> list[str]:
        return [
            line
            for line in self.log_path.read_text(errors="replace").splitlines()
            if f" {level} " in line or line.startswith(level)
        ]


@dataclass(frozen=True)
class ApiServers:
    groups: ProcessGroups
    run_dir: Path
    model_path: Path
    database_url: str

    @contextlib.contextmanager
    def running(self, name: str, api_root: Path = API_ROOT) -> Iterator[ApiServer]:
        """`python -m app` on a free loopback port, ready (GET /health answers), stopped at the
        end. LOG_LEVEL=warning: no access log line per request, the warnings still written.
        API_ROOT: another copy of lambdas-src/api to serve (the student edition's)."""
        port = free_port()
        env = api_env(
            MODEL_PATH=str(self.model_path),
            DATABASE_URL=self.database_url,
            HOST="127.0.0.1",
            PORT=str(port),
            LOG_LEVEL="warning",
        )
        env["PYTHONPATH"] = str(api_root)
        log_path = self.run_dir / f"api-{name}.log"
        with log_path.open("wb") as out:
            process = self.groups.start(
                f"api-{name}", [sys.executable, "-m", "app"], stdout=out, env=env, cwd=api_root
            )
        server = ApiServer(process, f"http://127.0.0.1:{port}", log_path)
        try:
            wait_ready(server)
            yield server
        finally:
            self.groups.stop(process)


def wait_ready(server: ApiServer) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        code = server.process.poll()
        if code is not None:
            raise AssertionError(f"the API exited with {code}:\n{server.log_tail()}")
        try:
            if httpx.get(f"{server.base_url}/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"the API not ready in {READY_TIMEOUT_S} s:\n{server.log_tail()}")
        time.sleep(0.2)


# ------------------------------------------------------------------------------ wrk


@dataclass(frozen=True)
class WrkResult:
    requests: int
    requests_per_s: float
    latency_ms: dict[int, float]
    """percentile (50, 75, 90, 99) -> milliseconds, from --latency"""
    wrk_errors_status: int
    """wrk's "Non-2xx or 3xx responses", which counts statuses >= 400 only"""
    socket_errors: dict[str, int]
    """connect, read, write, timeout"""
    counts: dict[str, int]
    """from wrk_counts.lua: every status outside 2xx, and the stored flags (COUNT_KEYS)"""
    output: str

    @property
    def non_2xx(self) -> int:
        return max(self.counts["non2xx"], self.wrk_errors_status)

    @property
    def socket_error_total(self) -> int:
        return sum(self.socket_errors.values())


_TIME_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(number: str, unit: str) -> float:
    return float(number) * _TIME_MS[unit]


def parse_wrk_output(output: str) -> WrkResult:
    """Read the figures of `wrk --latency -s wrk_counts.lua`; ValueError if a figure is missing."""
    rate = re.search(r"^Requests/sec:\s+([\d.]+)\s*$", output, re.M)
    total = re.search(r"^\s*(\d+) requests in ", output, re.M)
    counts_line = re.search(r"^LOADCOUNTS (.*)$", output, re.M)
    if rate is None or total is None or counts_line is None:
        raise ValueError(f"not the output of wrk --latency -s wrk_counts.lua:\n{output}")
    latency = {
        int(m[1]): _ms(m[2], m[3])
        for m in re.finditer(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.M)
    }
    if set(latency) != {50, 75, 90, 99}:
        raise ValueError(f"wrk printed no latency distribution (--latency):\n{output}")
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    socket_errors = dict(
        zip(
            ("connect", "read", "write", "timeout"),
            (int(n) for n in sockets.groups()) if sockets else (0, 0, 0, 0),
            strict=True,
        )
    )
    status = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    counts = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counts_line[1])}
    if set(counts) != set(COUNT_KEYS):
        raise ValueError(f"LOADCOUNTS line lacks some of {COUNT_KEYS}: {counts_line[0]!r}")
    return WrkResult(
        requests=int(total[1]),
        requests_per_s=float(rate[1]),
        latency_ms=latency,
        wrk_errors_status=int(status[1]) if status else 0,
        socket_errors=socket_errors,
        counts=counts,
        output=output,
    )


@dataclass(frozen=True)
class Wrk:
    executable: str
    connections: int
    threads: int
    timeout_s: int = 30
    """per request: wrk's default of 2 s counts slow answers on a busy 2-core machine as errors"""

    def command(self, url: str, seconds: int, mode: str) -> list[str]:
        return [
            self.executable,
            f"--threads={self.threads}",
            f"--connections={self.connections}",
            f"--duration={seconds}s",
            f"--timeout={self.timeout_s}s",
            "--latency",
            f"--script={LUA_SCRIPT}",
            url,
            "--",
            mode,
        ]

    def version(self) -> str:
        done = subprocess.run(
            [self.executable, "--version"], capture_output=True, text=True, check=False
        )
        first = (done.stdout or done.stderr).splitlines()  # wrk 4.2.0 [epoll] Copyright ...
        return first[0].split(" [")[0] if first else "wrk"


@dataclass(frozen=True)
class Tools:
    wrk: Wrk
    pg_bin: Path


class WrkRun:
    """One wrk process in its own process group; `result()` waits for it (it stops by itself
    after its duration) and parses its output."""

    def __init__(
        self, groups: ProcessGroups, wrk: Wrk, url: str, seconds: int, mode: str, log: Path
    ) -> None:
        self.seconds = seconds
        self.log = log
        self._groups = groups
        with log.open("wb") as out:
            self.process = groups.start("wrk", wrk.command(url, seconds, mode), stdout=out)

    def result(self) -> WrkResult:
        try:
            code = self.process.wait(timeout=self.seconds + 60)
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(
                f"wrk still running {self.seconds + 60} s after its start"
            ) from exc
        finally:
            self._groups.stop(self.process, grace_s=2)
        output = self.log.read_text(errors="replace")
        if code != 0:
            raise AssertionError(f"wrk exited with {code}:\n{output}")
        return parse_wrk_output(output)

    def stop(self) -> None:
        self._groups.stop(self.process, grace_s=2)


# ------------------------------------------------------------------------------ memory


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (uvicorn workers, if any), from /proc."""
    found = [pid]
    index = 0
    while index < len(found):
        for children in Path(f"/proc/{found[index]}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                found.extend(int(c) for c in children.read_text().split())
        index += 1
    return found


def rss_bytes(pid: int) -> int:
    """VmRSS of `pid` and its descendants; 0 for a process that has gone."""
    total = 0
    for member in descendants(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024  # "VmRSS:   123456 kB"
                    break
    return total


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
