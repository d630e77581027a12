"""The API's model trained for tests and benchmarks, as a user trains it: `python -m ml.algo`
in the API's folder (lambdas-src/api/ml/algo.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from week_testkit import API_DIR, SAMPLE_CSV, SetupError
from week_testkit.server import api_env


def train_command(
    out: Path, *options: str, data: Path = SAMPLE_CSV, python: str = sys.executable
) -> list[str]:
    """`python -m ml.algo --data DATA --out OUT OPTIONS...` (options such as `--fast`)."""
    return [python, "-m", "ml.algo", "--data", str(data), "--out", str(out), *options]


def train_model(
    out: Path,
    *options: str,
    data: Path = SAMPLE_CSV,
    api_dir: Path = API_DIR,
    python: str = sys.executable,
    timeout_s: float = 900,
) -> Path:
    """Train on `data` (default: the three-class sample) into `out` (its folder is created);
    SetupError with algo.py's output if it fails. Returns `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        train_command(out, *options, data=data, python=python),
        cwd=api_dir,
        env=api_env(api_dir),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if done.returncode != 0:
        raise SetupError(
            f"training ({' '.join(options) or 'course pipeline'}) failed ({done.returncode}):\n"
            f"{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    return out
