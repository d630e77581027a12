"""What every benchmark shares: results, timing, servers, a throw-away PostgreSQL, wrk, the
course data and models."""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import invocations as inv

ROOT = inv.ROOT
COURSE_CSV = ROOT.parent / "shared" / "data" / "course-tweets" / "labeled_data.csv"
if (
    not COURSE_CSV.is_file()
):  # worktrees live in /work/wt/<name>; the data in /work/shared
    COURSE_CSV = Path("/work/shared/data/course-tweets/labeled_data.csv")
SAMPLE_CSV = inv.API_DIR / "ml" / "data" / "sample.csv"
if (
    str(inv.API_DIR) not in sys.path
):  # pickled pipelines may refer to the API's ml package
    sys.path.append(str(inv.API_DIR))


class BenchError(Exception):
    """A benchmark could not measure; the message says what failed."""


@dataclass
class Size:
    """How big a run is: `full` for `npm run bench`, `tiny` for the smoke test."""

    name: str
    work: Path

    @property
    def tiny(self) -> bool:
        return self.name == "tiny"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def result(
    name: str,
    unit: str,
    baseline_name: str,
    baseline: float | None,
    ours: float | None,
    *,
    higher_is_better: bool,
    runs: int,
    **extra: Any,
) -> dict[str, Any]:
    """One row of bench/results.json. `ratio` is how many times better ours is than the baseline
    (>1: ours better), whichever the unit's direction."""
    ratio = None
    if baseline and ours and baseline > 0 and ours > 0:
        ratio = ours / baseline if higher_is_better else baseline / ours
    return {
        "name": name,
        "unit": unit,
        "baseline": {"name": baseline_name, "figure": _round(baseline)},
        "ours": _round(ours),
        "ratio": _round(ratio),
        "better": "higher" if higher_is_better else "lower",
        "runs": runs,
        **extra,
    }


def skipped(name: str, unit: str, reason: str) -> dict[str, Any]:
    return {
        "name": name,
        "unit": unit,
        "baseline": {"name": None, "figure": None},
        "ours": None,
        "ratio": None,
        "runs": 0,
        "skipped": reason,
    }


def _round(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return value
    return float(f"{value:.4g}")


def goal(text: str, met: bool | None) -> dict[str, Any]:
    return {"goal": text, "met": met}


def machine() -> dict[str, Any]:
    def first(cmd: list[str]) -> str | None:
        try:
            out = subprocess.run(
                cmd, capture_output=True, text=True, timeout=20, check=False
            )
            return (
                out.stdout.strip().splitlines()[0]
                if out.returncode == 0 and out.stdout.strip()
                else None
            )
        except (OSError, subprocess.TimeoutExpired):
            return None

    cpu = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gb = None
    with contextlib.suppress(OSError, ValueError):
        kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        mem_gb = round(kb / 1024 / 1024, 1)
    os_name = platform.platform()
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = (
                    f"{line.split('=', 1)[1].strip(chr(34))} ({platform.release()})"
                )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "os": os_name,
        "node": first(["node", "--version"]),
        "python": first([inv.PYTHON, "--version"]),
        "docker_storage_driver": first(["docker", "info", "--format", "{{.Driver}}"]),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


LAST_CPU = [0.0]


def timed(
    cmd: Sequence[str],
    *,
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> float:
    """Wall seconds of one run of CMD; raises BenchError if it fails. The CPU seconds (user +
    system, CMD and the children it waited for) of the last call are in LAST_CPU[0]."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(
        list(cmd),
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU[0] = (after.ru_utime - before.ru_utime) + (
        after.ru_stime - before.ru_stime
    )
    if proc.returncode != 0:
        raise BenchError(
            f"{' '.join(cmd)} failed (exit {proc.returncode}): {proc.stderr.strip()[-400:]}"
        )
    return seconds


def alternate(
    commands: dict[str, Callable[[], float]], runs: int
) -> dict[str, list[float]]:
    """Run each measurement in turn, RUNS rounds (A B A B ...), so that a load change on the
    machine hits every contender alike; returns the figures by name."""
    figures: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, measure in commands.items():
            figures[name].append(measure())
    return figures


# ------------------------------------------------------------------ HTTP servers


def http_json(
    url: str, body: dict[str, Any] | None = None, timeout: float = 5
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, None


@dataclass
class Server:
    """A server process we started (killed by its own process group at exit)."""

    name: str
    command: list[str]
    cwd: Path
    env: dict[str, str]
    port: int
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as out:
            self.started_at = time.perf_counter()
            self.proc = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env={**os.environ, **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_predicting(self, text: str = "hello there", timeout: float = 120) -> float:
        """Seconds from start until POST /predict answers 200."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise BenchError(
                    f"{self.name} exited ({self.proc.returncode}): {self.log_tail()}"
                )
            with contextlib.suppress(OSError, ValueError):
                status, _ = http_json(
                    f"{self.url}/predict", inv.predict_request(text), timeout=2
                )
                if status == 200:
                    return time.perf_counter() - self.started_at
            time.sleep(0.01)
        raise BenchError(
            f"{self.name} did not answer POST /predict within {timeout:.0f} s: {self.log_tail()}"
        )

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the server's process tree so far (Linux /proc)."""
        if self.proc is None:
            return 0.0
        tick = os.sysconf("SC_CLK_TCK")
        total, pending = 0.0, [self.proc.pid]
        while pending:
            pid = pending.pop()
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
                pending.extend(int(c) for c in children)
        return total

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return " | ".join(
                self.log_path.read_text(errors="replace").strip().splitlines()[-5:]
            )
        return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@contextlib.contextmanager
def running(servers: Sequence[Server], timeout: float = 120) -> Iterator[None]:
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait_predicting(timeout=timeout)
        yield
    finally:
        for server in servers:
            server.stop()


# ------------------------------------------------------------------ PostgreSQL


def _pg_bin() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    raise BenchError("initdb/pg_ctl not found (install the PostgreSQL server binaries)")


@contextlib.contextmanager
def postgres(work: Path) -> Iterator[str]:
    """A throw-away PostgreSQL cluster on a free loopback port, default durability settings
    (fsync and synchronous_commit on, as a real database); yields its URL."""
    bin_dir = _pg_bin()
    del work  # the cluster lives in its own folder of the system's temp dir, which the
    # postgres user can reach (the harness's work folder is private to root)
    data = Path(tempfile.mkdtemp(prefix="week-bench-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        import pwd

        user = "postgres"
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            entry = pwd.getpwnam("nobody")
        os.chown(data, entry.pw_uid, entry.pw_gid)
        prefix = [
            "setpriv",
            f"--reuid={entry.pw_uid}",
            f"--regid={entry.pw_gid}",
            "--clear-groups",
        ]
    port = free_port()
    try:
        subprocess.run(
            prefix
            + [
                str(bin_dir / "initdb"),
                "-D",
                str(data / "db"),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            cwd=data,
        )
        options = (
            f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections=200"
        )
        subprocess.run(
            prefix
            + [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data / "db"),
                "-l",
                str(data / "log"),
                "-w",
                "-t",
                "60",
                "-o",
                options,
                "start",
            ],
            check=True,
            capture_output=True,
            cwd=data,
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(data, ignore_errors=True)
        raise BenchError(
            f"PostgreSQL did not start: {exc.stderr.decode(errors='replace').strip()[-300:]}"
        ) from exc
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            prefix
            + [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data / "db"),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
            capture_output=True,
            cwd=data,
            check=False,
        )
        shutil.rmtree(data, ignore_errors=True)


# ------------------------------------------------------------------ wrk

WRK_SCRIPT = """
local bodies = {BODIES}
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "/predict", {{["Content-Type"] = "application/json"}}, bodies[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def wrk_script(texts: Sequence[str], path: Path) -> Path:
    def lua_string(value: str) -> str:
        return "[==[" + value.replace("]==]", "] ==]") + "]==]"

    bodies = (
        "{"
        + ", ".join(lua_string(json.dumps(inv.predict_request(t))) for t in texts)
        + "}"
    )
    path.write_text(
        WRK_SCRIPT.replace("{BODIES}", bodies).replace("{{", "{").replace("}}", "}")
    )
    return path


def wrk(url: str, script: Path, connections: int, seconds: float) -> dict[str, float]:
    """requests/s, p50/p99 in ms, and errors (socket errors and non-2xx answers)."""
    threads = min(2, connections)
    proc = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{seconds:g}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    line = next(
        (ln for ln in proc.stdout.splitlines() if ln.startswith("WRKJSON ")), None
    )
    if proc.returncode != 0 or line is None:
        raise BenchError(
            f"wrk failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}"
        )
    data = json.loads(line.removeprefix("WRKJSON "))
    errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    return {
        "rps": data["requests"] / (data["duration_us"] / 1e6),
        "p50_ms": data["p50_us"] / 1000,
        "p99_ms": data["p99_us"] / 1000,
        "errors": float(errors),
        "requests": float(data["requests"]),
    }


# ------------------------------------------------------------------ data and models


def course_data_available() -> bool:
    return COURSE_CSV.is_file()


def read_course_rows() -> list[tuple[str, str]]:
    """(text, label) of the course data set, labels named as the data set's README says."""
    with COURSE_CSV.open(newline="", encoding="utf-8") as handle:
        return [
            (row["tweet"], inv.LABEL_NAMES[row["class"].strip()])
            for row in csv.DictReader(handle)
        ]


def write_csv(rows: Sequence[tuple[str, str]], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def train_model(
    algorithm: str, data: Path, out: Path, timeout: float = 900
) -> dict[str, Any]:
    """Run algo.py; return the model's metadata with `wall_seconds` added."""
    started = time.perf_counter()
    proc = subprocess.run(
        inv.train_command(algorithm, data, out),
        cwd=inv.API_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise BenchError(
            f"training ({algorithm}) failed (exit {proc.returncode}): {proc.stderr.strip()[-400:]}"
        )
    import joblib

    payload = joblib.load(out)
    metadata = dict(payload.get("metadata", {})) if isinstance(payload, dict) else {}
    metadata["wall_seconds"] = wall
    return metadata


def load_pipeline(path: Path) -> Any:
    import joblib

    payload = joblib.load(path)
    return payload["pipeline"] if isinstance(payload, dict) else payload


@dataclass
class Models:
    """The model the API benchmarks serve: the course data's fast model when the data is there,
    else the sample's; trained once per harness run."""

    work: Path
    cache: dict[str, tuple[Path, str, list[str]]] = field(default_factory=dict)
    data: dict[str, Path] = field(default_factory=dict)
    served: dict[str, Path] = field(default_factory=dict)

    def serving(self, size: Size) -> tuple[Path, str, list[str]]:
        """(model path, what it was trained on, texts to send)."""
        key = "sample" if size.tiny or not course_data_available() else "course"
        if key not in self.cache:
            out = self.work / f"model-{key}.joblib"
            if key == "course":
                rows = read_course_rows()
                data = write_csv(rows, self.work / "course.csv")
                texts = [" ".join(t.split()) for t, _ in rows[::97]][:200]
                described = f"course data ({len(rows)} tweets), fast pipeline"
            else:
                data = SAMPLE_CSV
                with SAMPLE_CSV.open(newline="", encoding="utf-8") as handle:
                    texts = [
                        r["text"]
                        for r in csv.DictReader(handle)
                        if any(c.isalpha() for c in r["text"] or "")
                    ][:100]
                described = (
                    "sample data (course data absent or tiny run), fast pipeline"
                )
            log(f"training the served model on {described}")
            train_model("fast", data, out)
            self.cache[key] = (out, described, texts)
            self.data[key] = data
        return self.cache[key]

    def served_by_api(self, size: Size) -> Path:
        """The file our API serves for that model, as its image chooses (the NumPy export)."""
        key = "sample" if size.tiny or not course_data_available() else "course"
        if key not in self.served:
            model, _, _ = self.serving(size)
            self.served[key] = inv.served_model(model, self.data[key])
            log(f"our API serves {self.served[key].name}")
        return self.served[key]
