"""POST /predict: our API (every prediction stored) against the course-style server, side by
side on the same model, wrk on loopback, alternated runs, medians (issue 11, goal `predict`).

    .venv/bin/python tests/load/bench_predict.py --model MODEL [--seconds 10] [--runs 3]
        [--connections 16,64] [--backend postgresql|sqlite] [--set WEB_CONCURRENCY=2 ...]

Prints, per connection count, requests/s and p50/p99 of each server, the ratio, the answers
outside 2xx, and how many predictions were stored against how many were answered stored: true.
Also checks, before the load, that the API's probabilities equal the model's own predict_proba
(largest difference printed). It measures; it does not judge.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
API = ROOT / "lambdas-src" / "api"
sys.path[:0] = [str(HERE), str(API)]

from loadkit import PostgresCluster, Wrk, find_pg_bin, free_port, parse_wrk_output  # noqa: E402

TEXTS = [
    "The striker scored twice in the second half.",
    "The chip maker released a faster processor.",
    "The senate passed the budget bill after a long debate.",
    "Our cloud provider moved its servers to a new data centre.",
]


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            request = urllib.request.Request(
                url + "/predict",
                data=json.dumps({"text": "warm up"}).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} not ready in {timeout_s} s")


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], cwd: Path, log: Path) -> Iterator[str]:
    port = free_port()
    env = {**env, "PORT": str(port)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [c.replace("{port}", str(port)) for c in command],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def check_probabilities(url: str, model_path: Path) -> float:
    from ml.model import load_model

    classifier = load_model(model_path)
    expected = classifier.pipeline.predict_proba(TEXTS)
    worst = 0.0
    for text, row in zip(TEXTS, expected, strict=True):
        request = urllib.request.Request(
            url + "/predict",
            data=json.dumps({"text": text}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            got = json.loads(response.read())["probabilities"]
        for label, p in zip(classifier.classes, row, strict=True):
            worst = max(worst, abs(got[label] - float(p)))
    return worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", default="16,64")
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--set", action="append", default=[], help="NAME=VALUE for our API")
    parser.add_argument("--only", choices=("both", "ours", "course"), default="both")
    args = parser.parse_args()
    wrk_path = shutil.which("wrk")
    if wrk_path is None:
        print("bench_predict: wrk is not installed", file=sys.stderr)
        return 1
    python = sys.executable
    model = args.model.resolve()
    work = Path(tempfile.mkdtemp(prefix="bench-predict."))
    work.chmod(0o755)  # initdb runs as the postgres user when we are root
    base_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PORT")}
    base_env.update(MODEL_PATH=str(model), HOST="127.0.0.1", LOG_LEVEL="warning")
    ours_env = {**base_env, "PYTHONPATH": str(API), "SQLITE_PATH": str(work / "p.sqlite3")}
    for item in args.set:
        name, _, value = item.partition("=")
        ours_env[name] = value
    cluster = None
    if args.backend == "postgresql":
        pg_bin = find_pg_bin()
        assert pg_bin is not None, "PostgreSQL server binaries not found"
        cluster = PostgresCluster(pg_bin, work / "pg")
        cluster.init()
        cluster.start()
        ours_env["DATABASE_URL"] = cluster.url()
    servers = {
        "course": (
            [
                python,
                "-m",
                "uvicorn",
                "course_server:app",
                "--port",
                "{port}",
                "--log-level",
                "warning",
            ],
            {**base_env, "PYTHONPATH": str(HERE)},
            HERE,
        ),
        "ours": ([python, "-m", "app"], ours_env, API),
    }
    if args.only != "both":
        servers = {args.only: servers[args.only]}
    results: dict[tuple[str, int], list[tuple[float, float, float, int, int]]] = {}
    try:
        for connections in (int(c) for c in args.connections.split(",")):
            wrk = Wrk(wrk_path, connections=connections, threads=2)
            for run in range(args.runs):
                order = list(servers) if run % 2 == 0 else list(reversed(servers))
                for name in order:
                    command, env, cwd = servers[name]
                    with server(command, env, cwd, work / f"{name}.log") as url:
                        if run == 0 and connections == int(args.connections.split(",")[0]):
                            worst = check_probabilities(url, model)
                            print(f"{name}: max |p - predict_proba| = {worst:.3g}")
                        subprocess.run(
                            wrk.command(url + "/predict", 2, "predict"),
                            capture_output=True,
                            check=False,
                        )
                        done = subprocess.run(
                            wrk.command(url + "/predict", args.seconds, "predict"),
                            capture_output=True,
                            text=True,
                            check=False,
                        )
                        result = parse_wrk_output(done.stdout)
                        results.setdefault((name, connections), []).append(
                            (
                                result.requests_per_s,
                                result.latency_ms[50],
                                result.latency_ms[99],
                                result.non_2xx + result.socket_error_total,
                                result.counts["stored_true"],
                            )
                        )
                        errors = result.non_2xx + result.socket_error_total
                        print(
                            f"  c={connections} run {run + 1} {name}:"
                            f" {result.requests_per_s:.0f} req/s"
                            f" p50 {result.latency_ms[50]:.1f} ms"
                            f" p99 {result.latency_ms[99]:.1f} ms errors {errors}",
                            flush=True,
                        )
        print("\nconnections  server  req/s(median)  p50 ms  p99 ms  errors")
        for (name, connections), rows in sorted(
            results.items(), key=lambda kv: (kv[0][1], kv[0][0])
        ):
            rate, p50, p99 = (statistics.median(r[i] for r in rows) for i in range(3))
            print(
                f"{connections:>11}  {name:>6}  {rate:>13.0f}  {p50:>6.1f}  {p99:>6.1f}"
                f"  {sum(r[3] for r in rows):>6}"
            )
        for connections in (int(c) for c in args.connections.split(",")):
            if ("ours", connections) in results and ("course", connections) in results:
                ratio = statistics.median(
                    r[0] for r in results["ours", connections]
                ) / statistics.median(r[0] for r in results["course", connections])
                print(f"c={connections}: ours / course = {ratio:.2f}x")
    finally:
        if cluster is not None and cluster.running:
            cluster.stop("immediate")
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
