"""Cold start of the API: from process start to the first successful POST /predict.

    .venv/bin/python tests/load/cold_start.py --model MODEL [--runs 5] [-- COMMAND...]
    .venv/bin/python tests/load/cold_start.py --docker IMAGE [--runs 5]

Default command: `python -m app` from lambdas-src/api (the image's CMD) with MODEL_PATH, a
SQLite file and a free port. With --docker, `docker run` of IMAGE (container creation counted).
Prints each run and the median, in seconds; it measures, it does not judge.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

API = Path(__file__).resolve().parents[2] / "lambdas-src" / "api"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def first_prediction(port: int, started: float, process: subprocess.Popen[bytes]) -> float:
    body = json.dumps({"text": "The striker scored twice."}).encode()
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/predict",
                data=body,
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200 and json.loads(response.read())["stored"]:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--docker")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times = []
    for _ in range(args.runs):
        port = free_port()
        with tempfile.TemporaryDirectory() as tmp:
            if args.docker:
                name = f"h1-cold-{os.getpid()}-{port}"
                command = ["docker", "run", "--rm", "--name", name, "-p", f"127.0.0.1:{port}:8000"]
                command.append(args.docker)
                env = dict(os.environ)
                cwd = None
            else:
                assert args.model is not None, "--model or --docker"
                command = [sys.executable, "-m", "app"]
                env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
                env.update(
                    MODEL_PATH=str(args.model.resolve()),
                    PORT=str(port),
                    HOST="127.0.0.1",
                    SQLITE_PATH=f"{tmp}/p.sqlite3",
                    PYTHONPATH=str(API),
                )
                cwd = API
            started = time.perf_counter()
            process = subprocess.Popen(
                command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            try:
                elapsed = first_prediction(port, started, process)
            finally:
                if args.docker:
                    subprocess.run(["docker", "stop", "-t", "5", name], capture_output=True)
                process.terminate()
                process.wait(30)
            times.append(elapsed)
            print(f"run {len(times)}: {elapsed:.2f} s", flush=True)
    print(f"median {statistics.median(times):.2f} s over {len(times)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
