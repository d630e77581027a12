"""Every command the benchmarks run, in one place: change them here when the API, the training
script or the synth changes (the benchmark modules only call these functions)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from week_testkit.server import api_command as testkit_api_command

ROOT = Path(__file__).resolve().parents[1]
# BENCH_API_DIR serves another checkout's API (to compare branches); default this tree's
API_DIR = Path(
    os.environ.get("BENCH_API_DIR") or ROOT / "lambdas-src" / "api"
).resolve()
BASELINE_DIR = ROOT / "bench" / "baseline"
PYTHON = (
    str(ROOT / ".venv" / "bin" / "python")
    if (ROOT / ".venv").is_dir()
    else sys.executable
)

# ------------------------------------------------------------------ the prediction API
# Our API as its container starts it: `python -m app` (lambdas-src/api/Dockerfile's CMD), settings
# from the environment (lambdas-src/api/README.md). Knobs the API adds (workers, batching...) go in
# API_EXTRA_ENV, so every benchmark starts it the same way.
# BENCH_API_ENV="WEB_CONCURRENCY=2 BATCH_MAX_WAIT_MS=1" adds settings for one run.
API_EXTRA_ENV: dict[str, str] = dict(
    item.split("=", 1)
    for item in os.environ.get("BENCH_API_ENV", "").split()
    if "=" in item
)


def api_command() -> list[str]:
    return testkit_api_command(PYTHON)


def served_model(model: Path, data: Path) -> Path:
    """The model file the API's image serves for MODEL: as lambdas-src/api/Dockerfile chooses,
    its NumPy export (app.slim_model, checked equal to scikit-learn on DATA) when the model
    exports, else the model itself."""
    slim = model.with_suffix(".npz")
    done = subprocess.run(
        [PYTHON, "-m", "app.slim_model", str(model), str(slim), "--check", str(data)],
        cwd=API_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    return slim if done.returncode == 0 and slim.is_file() else model


def api_env(
    port: int, model: Path, *, database_url: str | None, sqlite_path: Path
) -> dict[str, str]:
    env = {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "MODEL_PATH": str(model),
        "LOG_LEVEL": "warning",
        "SQLITE_PATH": str(sqlite_path),
        **API_EXTRA_ENV,
    }
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return env


def predict_request(text: str) -> dict[str, Any]:
    """Body of POST /predict (both servers take the same)."""
    return {"text": text}


def probabilities_of(response: dict[str, Any]) -> dict[str, float]:
    return {str(k): float(v) for k, v in response["probabilities"].items()}


# The course-style server (TP3 as written in the course): one uvicorn process, a plain `def`
# route, predict_proba on one text, nothing stored.
def baseline_command(port: int) -> list[str]:
    return [
        PYTHON,
        "-m",
        "uvicorn",
        "course_server:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]


def baseline_env(model: Path) -> dict[str, str]:
    # the pickled pipeline may refer to the API's ml package (as the course's server sits beside
    # its algo.py)
    return {"MODEL_PATH": str(model), "PYTHONPATH": str(API_DIR)}


# ------------------------------------------------------------------ training (ml/algo.py)
# The benchmark writes the course data as a CSV with `text` and `label` columns (label names
# from the data set's README) and lets algo.py clean it and hold out its own test part.
LABEL_NAMES = {"0": "hate_speech", "1": "offensive_language", "2": "neither"}


def train_options(algorithm: str) -> list[str]:
    """algo.py's options for ALGORITHM (week_testkit.models runs `python -m ml.algo`)."""
    return ["--fast"] if algorithm == "fast" else []


def train_seconds(metadata: dict[str, Any]) -> float | None:
    """The fit time algo.py records in the model's metadata (without imports and CSV reading)."""
    value = metadata.get("train_seconds")
    return float(value) if isinstance(value, (int, float)) else None


# ------------------------------------------------------------------ synth
# `npm run synth` (what package.json says) and the cdktf CLI; the template default runs the app
# with type-checking ts-node (cdktf's TypeScript template: "app": "npx ts-node main.ts").
TS_NODE_VERSION = "10.9.2"
SYNTH_ENV = {"CHECKPOINT_DISABLE": "1", "CDKTF_DISABLE_PLUGIN_CACHE_ENV": "1"}


def npm_synth() -> list[str]:
    return ["npm", "run", "--silent", "synth"]


def synth_app() -> list[str]:
    """What `npm run synth` runs, without npm (package.json's script, read at call time)."""
    import json

    return str(
        json.loads((ROOT / "package.json").read_text())["scripts"]["synth"]
    ).split(" ")


def cdktf_synth(app: str | None = None) -> list[str]:
    return ["npx", "--no-install", "cdktf", "synth", "--output", "{outdir}"] + (
        ["--app", app] if app else []
    )


def cdktf_version() -> list[str]:
    return ["npx", "--no-install", "cdktf", "--version"]


def ts_node_app(ts_node_bin: Path) -> str:
    return f"node {ts_node_bin} main.ts"


# ------------------------------------------------------------------ CI
CI_TIMES_FILE = (
    ROOT / ".ci" / "last-run.json"
)  # written by .ci/run, one entry per phase


def jest_command() -> list[str]:
    return ["npx", "--no-install", "jest", "--silent"]


def python_suites_command() -> list[str]:
    return ["bash", "scripts/test/py-test.sh"]


def image_tests_command() -> list[str]:
    return [
        "bash",
        "scripts/test/image-test.sh",
    ]  # run with IMAGE_TEST_PRUNE=0: other images stay


def base_env() -> dict[str, str]:
    return dict(os.environ)


# ------------------------------------------------------------------ images
# Stand-in base (scripts/setup/docker-bases.sh) each image of the local stack is built on here.
IMAGE_STANDINS = {
    "week-sandbox": "week-local/debian:bookworm",
    "week-api": "week-local/python:3.11-slim-bookworm",
    "week-streamlit": "week-local/python:3.11-slim-bookworm",
}
IMAGE_TAG_PREFIX = "h6-"  # images the benchmark builds itself (BENCH_BUILD_IMAGES=1)
