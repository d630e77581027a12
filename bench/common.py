"""What every benchmark shares: results, timing, servers, a throw-away PostgreSQL, wrk, the
course data and models. The machinery (ports, PostgreSQL, server processes, wrk and its output,
training) is the test suites' too: week_testkit (tests/support); this module adapts it to the
harness (BenchError, figures as dicts)."""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from week_testkit import SetupError
from week_testkit.models import train_model as testkit_train_model
from week_testkit.postgres import PostgresCluster
from week_testkit.server import ServerProcess
from week_testkit.wrk import Wrk, find_wrk, write_bodies

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


def busy_core_seconds() -> float:
    """CPU time this machine has spent busy since boot, all cores (the `cpu` line of /proc/stat:
    user, nice, system, irq, softirq, steal): the difference of two readings is what a run cost,
    every process included (the Docker engine and its shims as well as the containers)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(f) for f in fields[:8]
    )
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def watch_ready(
    keys: Sequence[str],
    probe: Callable[[str], bool],
    *,
    started: float,
    timeout_s: float,
    alive: Callable[[], None] = lambda: None,
    every_s: float = 0.5,
) -> dict[str, float]:
    """Seconds after `started` (time.monotonic) at which `probe(key)` first said yes, for every
    key: each key is asked in its own thread, every `every_s`, so a slow answer (a health
    check waiting for a database) delays only its own key. `alive()` is called every second
    from the calling thread and stops the watch by raising. Keys not ready by the timeout are
    missing from the result."""
    ready: dict[str, float] = {}
    stop = threading.Event()
    deadline = time.monotonic() + timeout_s

    def watch(key: str) -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            if probe(key):
                ready[key] = time.monotonic() - started
                return
            stop.wait(every_s)

    threads = [threading.Thread(target=watch, args=(k,), daemon=True) for k in keys]
    for t in threads:
        t.start()
    try:
        while any(t.is_alive() for t in threads):
            alive()
            time.sleep(1)
    finally:
        stop.set()
    return ready


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


class Server(ServerProcess):
    """A server process we started, its settings `env` added to this environment, killed by its
    own process group at the end."""

    def __init__(
        self,
        name: str,
        command: list[str],
        cwd: Path,
        env: dict[str, str],
        port: int,
        log_path: Path,
    ) -> None:
        super().__init__(
            command,
            port=port,
            log_path=log_path,
            env={**os.environ, **env},
            cwd=cwd,
            name=name,
        )

    def wait_predicting(self, text: str = "hello there", timeout: float = 120) -> float:
        """Seconds from start until POST /predict answers 200."""

        def predicts() -> bool:
            with contextlib.suppress(OSError, ValueError):
                status, _ = http_json(
                    f"{self.url}/predict", inv.predict_request(text), timeout=2
                )
                return status == 200
            return False

        try:
            return self.wait_ready(predicts, timeout_s=timeout)
        except SetupError as exc:
            raise BenchError(str(exc)) from exc


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


@contextlib.contextmanager
def postgres(work: Path) -> Iterator[str]:
    """A throw-away PostgreSQL cluster on a free loopback port, default durability settings
    (fsync and synchronous_commit on, as a real database); yields its URL."""
    del work  # the cluster lives in its own folder of the system's temp dir, which the
    # postgres user can reach (the harness's work folder is private to root)
    with contextlib.ExitStack() as stack:
        try:
            cluster = stack.enter_context(
                PostgresCluster(durable=True, max_connections=200)
            )
        except SetupError as exc:
            raise BenchError(f"PostgreSQL did not start: {str(exc)[-300:]}") from exc
        yield cluster.url()


# ------------------------------------------------------------------ wrk


def wrk_bodies(texts: Sequence[str], path: Path) -> Path:
    """The POST /predict bodies wrk sends in turn, one per text."""
    return write_bodies((inv.predict_request(t) for t in texts), path)


def wrk(url: str, bodies: Path, connections: int, seconds: float) -> dict[str, float]:
    """POST /predict with BODIES: requests/s, p50/p99 in ms, and errors (socket errors and
    answers outside 2xx)."""
    executable = find_wrk()
    if executable is None:
        raise BenchError("wrk is not installed (apt-get install -y wrk)")
    runner = Wrk(
        executable, connections=connections, threads=2, timeout_s=10, bodies=bodies
    )
    try:
        figures = runner.run(f"{url}/predict", seconds)
    except (SetupError, ValueError) as exc:
        raise BenchError(f"wrk failed: {str(exc)[-300:]}") from exc
    return {
        "rps": figures.requests_per_s,
        "p50_ms": figures.latency_ms[50],
        "p99_ms": figures.latency_ms[99],
        "errors": float(figures.errors),
        "requests": float(figures.requests),
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
    try:
        testkit_train_model(
            out,
            *inv.train_options(algorithm),
            data=data,
            api_dir=inv.API_DIR,
            python=inv.PYTHON,
            timeout_s=timeout,
        )
    except SetupError as exc:
        raise BenchError(str(exc)[-600:]) from exc
    wall = time.perf_counter() - started
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
