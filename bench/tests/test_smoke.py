"""Smoke test of the harness: every benchmark on its tiny size (seconds each), checking the
shape of bench/results.json and that the figures were measured. Never checks a speed."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.__main__ import BENCHMARKS
from bench.b_synth import policy_ms
from bench.b_train import _exponent, _predict
from bench.common import ROOT
from bench.report import END, START, markdown

MACHINE_KEYS = {
    "cpu",
    "cores",
    "memory_gb",
    "os",
    "node",
    "python",
    "docker_storage_driver",
    "date",
}


def positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


@pytest.mark.parametrize("name", list(BENCHMARKS))
def test_each_benchmark_measures_on_its_tiny_size(name: str, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--size", "tiny", "--out", str(out), name],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    document = json.loads(out.read_text())
    assert MACHINE_KEYS <= set(document["machine"])
    assert positive(document["machine"]["cores"])
    rows = document["results"]
    assert rows, "no result"
    for row in rows:
        assert name.split("-")[0] in row["name"]
        assert {"name", "unit", "baseline", "ours", "ratio", "runs"} <= set(row)
        assert {"name", "figure"} <= set(row["baseline"])
        if row.get(
            "skipped"
        ):  # only a missing engine or image may skip, never a failure
            # classroom: its tiny size starts no class (a class of containers is no smoke test)
            assert name in ("image-size", "classroom") or row["name"].startswith(
                "ci-phase"
            ), row
            assert not row["skipped"].startswith("failed"), row
            continue
        assert row["runs"] >= 1
        if row["name"] == "predict-correctness":
            assert row["ours"] < 1e-9, row  # the API's probabilities are the model's
            continue
        if row["name"].startswith(
            "ci-phase"
        ):  # read from .ci/last-run.json: a phase may be instant
            assert isinstance(row["ours"], (int, float)) and row["ours"] >= 0, row
            continue
        assert positive(row["ours"]), row
        for figure in (row.get("cpu_s") or {}).values():
            assert positive(figure), row
        if "policy_pack_ms" in row:
            assert (
                positive(row["policy_pack_ms"])
                and row["policy_pack_ms"] < row["profiled_synth_ms"]
            )
        if row["baseline"]["figure"] is not None:
            assert positive(row["baseline"]["figure"]), row
        if row["ratio"] is not None:
            expected = (
                row["ours"] / row["baseline"]["figure"]
                if row["better"] == "higher"
                else row["baseline"]["figure"] / row["ours"]
            )
            assert row["ratio"] == pytest.approx(expected, rel=1e-2)


def test_the_course_pipeline_extrapolation_follows_the_measured_power_law() -> None:
    points = [
        (500, 2.0),
        (1000, 4.0),
        (2000, 16.0),
    ]  # linear, then quadratic: the last pair counts
    assert _exponent(points) == pytest.approx(2.0)
    assert _predict(points, 4000) == pytest.approx(64.0)


def test_the_readme_table_is_written_between_its_markers() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme.count(START) == 1 and readme.count(END) == 1
    table = markdown(
        {
            "machine": {"cpu": "x"},
            "results": [
                {
                    "name": "synth-x",
                    "unit": "s",
                    "baseline": {"name": "b", "figure": 2.0},
                    "ours": 1.0,
                    "ratio": 2.0,
                    "runs": 3,
                    "goal": "g",
                    "met": True,
                }
            ],
        }
    )
    assert "| synth-x | s | 2 (b) | 1 | 2.00x | 3 | goal g: met |" in table


def test_the_policy_share_counts_samples_under_a_policies_frame_only() -> None:
    policy_url = f"file://{ROOT}/policies/pack.js"
    profile = {
        "nodes": [
            {"id": 1, "callFrame": {"url": ""}, "children": [2, 4]},
            {"id": 2, "callFrame": {"url": policy_url}, "children": [3]},
            {
                "id": 3,
                "callFrame": {"url": "file:///x/node_modules/cdktf/lib/resolve.js"},
            },
            {"id": 4, "callFrame": {"url": f"file://{ROOT}/stacks/local-stack.js"}},
        ],
        "samples": [3, 4, 2, 1],
        "timeDeltas": [5000, 7000, 1000, 2000],
    }
    assert policy_ms(profile) == pytest.approx(
        6.0
    )  # 5 ms in cdktf called by a policy, 1 ms in it
