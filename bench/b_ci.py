"""ci: the suites' own times measured here (jest, the Python suites), and the phase times of
the last `CI=true bash .ci/run` on this machine, which .ci/run records in .ci/last-run.json
(running all of CI takes 10+ minutes, too long for the bench's budget)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from typing import Any

from bench import invocations as inv
from bench.common import ROOT, BenchError, Size, goal, log, result, timed

# goals by .ci/run phase name (the commands of package.json's test script)
GOALS_S = {"jest": 20.0, "bash scripts/test/image-test.sh": 300.0}


def run(size: Size, models: Any) -> list[dict[str, Any]]:
    rows = []
    if size.tiny:
        seconds = timed(
            inv.jest_command() + ["__tests__/ts-cache.test.ts"], timeout=300
        )
        return [
            result(
                "ci-jest-one-file",
                "s",
                "goal for the whole suite",
                GOALS_S["jest"],
                seconds,
                higher_is_better=False,
                runs=1,
            )
        ] + last_ci_run()
    seconds = timed(inv.jest_command(), timeout=900)
    log(f"ci: jest {seconds:.1f} s")
    row = result(
        "ci-jest", "s", "goal", GOALS_S["jest"], seconds, higher_is_better=False, runs=1
    )
    row.update(goal("jest under 20 s", seconds < GOALS_S["jest"]))
    rows.append(row)
    seconds, status = timed_status(inv.python_suites_command())
    log(f"ci: Python suites {seconds:.1f} s, {status}")
    rows.append(
        result(
            "ci-python-suites",
            "s",
            "none (measured only)",
            None,
            seconds,
            higher_is_better=False,
            runs=1,
            status=status,
            note="scripts/test/py-test.sh: ruff, mypy, pytest",
        )
    )
    if os.environ.get("BENCH_CI_IMAGES") == "1":  # minutes: opt-in
        try:
            seconds = timed(
                inv.image_tests_command(), env={"IMAGE_TEST_PRUNE": "0"}, timeout=1800
            )
            log(f"ci: image tests {seconds:.1f} s")
            row = result(
                "ci-image-tests",
                "s",
                "goal",
                300.0,
                seconds,
                higher_is_better=False,
                runs=1,
            )
            row.update(goal("image tests under 5 min warm", seconds < 300.0))
            rows.append(row)
        except BenchError as exc:
            rows.append(
                {
                    **result(
                        "ci-image-tests",
                        "s",
                        "goal",
                        300.0,
                        None,
                        higher_is_better=False,
                        runs=0,
                    ),
                    "skipped": f"failed: {exc}",
                }
            )
    rows.extend(last_ci_run())
    return rows


def timed_status(cmd: list[str]) -> tuple[float, str]:
    """Wall seconds of CMD and "ok", or "failed (exit N): <its FAILED lines>": a failing suite
    still took its time."""
    started = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False
    )
    seconds = time.perf_counter() - started
    if proc.returncode == 0:
        return seconds, "ok"
    failed = [
        ln.strip() for ln in (proc.stdout + proc.stderr).splitlines() if "FAILED" in ln
    ][:5]
    return seconds, f"failed (exit {proc.returncode}): {'; '.join(failed)}"


def last_ci_run() -> list[dict[str, Any]]:
    path = inv.CI_TIMES_FILE
    if not path.is_file():
        return [
            {
                **result(
                    "ci-phases", "s", "none", None, None, higher_is_better=False, runs=0
                ),
                "skipped": f"no {path.relative_to(ROOT)}: run CI=true bash .ci/run once (it records its phases)",
            }
        ]
    record = json.loads(path.read_text())
    rows = []
    for phase in record.get("phases", []):
        name = "ci-phase-" + "".join(
            c if c.isalnum() else "-" for c in phase["name"].lower()
        ).strip("-")
        row = result(
            name,
            "s",
            "goal" if phase["name"] in GOALS_S else "none",
            GOALS_S.get(phase["name"]),
            float(phase["seconds"]),
            higher_is_better=False,
            runs=1,
            recorded=record.get("finished"),
            status=phase.get("status"),
            note=f"from {path.relative_to(ROOT)}",
        )
        if phase["name"] in GOALS_S:
            row.update(
                goal(
                    f"{phase['name']} under {GOALS_S[phase['name']]:.0f} s warm",
                    float(phase["seconds"]) < GOALS_S[phase["name"]],
                )
            )
        rows.append(row)
    return rows
