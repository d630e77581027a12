"""synth: `npm run synth` against the cdktf template's default (`cdktf synth` running the app
with type-checking ts-node), and `npx cdktf synth` against `npx cdktf --version` (the CLI's
floor). Alternated runs, medians; each run writes to its own temporary folder."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench import invocations as inv
from bench.common import (
    LAST_CPU,
    ROOT,
    BenchError,
    Size,
    alternate,
    goal,
    log,
    median,
    result,
    timed,
)

TS_NODE_DIR = (
    ROOT / "node_modules" / ".cache" / "week-bench" / f"ts-node-{inv.TS_NODE_VERSION}"
)


def ts_node_bin() -> Path:
    """ts-node, pinned, installed once into a cache folder (not a dependency of the project);
    it uses the project's TypeScript 5.9."""
    binary = TS_NODE_DIR / "node_modules" / "ts-node" / "dist" / "bin.js"
    if not binary.is_file():
        log(
            f"installing ts-node {inv.TS_NODE_VERSION} into {TS_NODE_DIR.relative_to(ROOT)} (once)"
        )
        TS_NODE_DIR.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [
                "npm",
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--legacy-peer-deps",
                "--prefix",
                str(TS_NODE_DIR),
                f"ts-node@{inv.TS_NODE_VERSION}",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if proc.returncode != 0 or not binary.is_file():
            raise BenchError(
                f"cannot install ts-node {inv.TS_NODE_VERSION}: {proc.stderr.strip()[-300:]}"
            )
    return binary


CPU: dict[str, list[float]] = {}


def _in_tmp(cmd: list[str], name: str = "") -> float:
    outdir = Path(tempfile.mkdtemp(prefix="synth-"))
    try:
        command = [c.replace("{outdir}", str(outdir)) for c in cmd]
        seconds = timed(
            command, env={**inv.SYNTH_ENV, "CDKTF_OUTDIR": str(outdir)}, timeout=300
        )
        CPU.setdefault(name, []).append(LAST_CPU[0])
        return seconds
    finally:
        shutil.rmtree(outdir, ignore_errors=True)


def run(size: Size, models: Any) -> list[dict[str, Any]]:
    runs = (
        1 if size.tiny else 3
    )  # the template default takes 20+ s a run on a busy machine
    names = {
        "npm run synth": inv.npm_synth(),
        "the app alone (npm run synth without npm)": inv.synth_app(),
        "npx cdktf --version": inv.cdktf_version(),
    }
    if not size.tiny:
        names["cdktf synth + ts-node (template default)"] = inv.cdktf_synth(
            inv.ts_node_app(ts_node_bin())
        )
        names["npx cdktf synth"] = inv.cdktf_synth()
    commands = {
        name: (lambda name=name, cmd=cmd: _in_tmp(cmd, name))
        for name, cmd in names.items()
    }
    _in_tmp(
        inv.npm_synth()
    )  # warm the transpile cache and the file system, not measured
    CPU.clear()
    figures = alternate(commands, runs)
    m = {name: median(values) for name, values in figures.items()}
    cpu = {name: round(median(values), 3) for name, values in CPU.items()}
    for name, value in m.items():
        log(
            f"synth: {name} {value:.2f} s, CPU {cpu[name]:.2f} s "
            f"(runs {', '.join(f'{v:.2f}' for v in figures[name])})"
        )
    all_runs = {name: [round(v, 3) for v in values] for name, values in figures.items()}
    ours = m["npm run synth"]
    if size.tiny:
        row = result(
            "synth-npm-vs-cli-floor",
            "s",
            "npx cdktf --version",
            m["npx cdktf --version"],
            ours,
            higher_is_better=False,
            runs=runs,
            all_runs=all_runs,
            cpu_s=cpu,
        )
        row.update(policy_share(1))
        return [row]
    base = m["cdktf synth + ts-node (template default)"]
    row = result(
        "synth-npm-vs-template",
        "s",
        f"cdktf synth + ts-node {inv.TS_NODE_VERSION} (type checking)",
        base,
        ours,
        higher_is_better=False,
        runs=runs,
        all_runs=all_runs,
        cpu_s=cpu,
        note=f"CPU {cpu['npm run synth']:.2f} s vs {cpu['cdktf synth + ts-node (template default)']:.2f} s; "
        f"the app alone {m['the app alone (npm run synth without npm)']:.2f} s",
    )
    row.update(
        goal(
            ">= 5x faster than the template default, npm run synth under 1 s",
            base >= 5 * ours and ours < 1.0,
        )
    )
    share = policy_share(3)
    log(
        f"synth: the policy pack takes {share['policy_pack_ms']:.0f} ms of a {share['profiled_synth_ms']:.0f} ms profile"
    )
    row.update(share)
    row["note"] += (
        f"; policy pack {share['policy_pack_ms']:.0f} ms of {share['profiled_synth_ms']:.0f} ms (CPU profile)"
    )
    rows = [row]
    cli = m["npx cdktf synth"]
    rows.append(
        result(
            "synth-cli-vs-cli-floor",
            "s",
            "npx cdktf --version (the CLI's floor)",
            m["npx cdktf --version"],
            cli,
            higher_is_better=False,
            runs=runs,
            all_runs=all_runs,
            cpu_s=cpu,
            note=f"the CLI costs {cli - m['npx cdktf --version']:.2f} s above its floor",
        )
    )
    return rows


def policy_ms(profile: dict[str, Any]) -> float:
    """Milliseconds of PROFILE's samples whose stack has a frame in the project's policies/."""
    nodes = {n["id"]: n for n in profile["nodes"]}
    parent = {c: n["id"] for n in profile["nodes"] for c in n.get("children", [])}
    known: dict[int, bool] = {}

    def under(node_id: int) -> bool:
        chain = []
        current: int | None = node_id
        answer = False
        while current is not None:
            if current in known:
                answer = known[current]
                break
            chain.append(current)
            if f"{ROOT}/policies/" in nodes[current]["callFrame"].get("url", ""):
                answer = True
                break
            current = parent.get(current)
        for visited in chain:
            known[visited] = answer
        return answer

    pairs = zip(profile["samples"], profile["timeDeltas"], strict=True)
    return sum(delta for sample, delta in pairs if under(sample)) / 1000


def policy_share(runs: int) -> dict[str, Any]:
    """CPU milliseconds the policy pack (frames in policies/) takes in one synth of the app,
    from V8's CPU profile (node --cpu-prof), against the whole profile; medians of RUNS."""
    app = inv.synth_app()
    policy, total = [], []
    for _ in range(runs):
        folder = Path(tempfile.mkdtemp(prefix="synth-prof-"))
        try:
            _in_tmp(
                [app[0], "--cpu-prof", f"--cpu-prof-dir={folder}", *app[1:]], "profile"
            )
            profile = json.loads(next(folder.glob("*.cpuprofile")).read_text())
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        policy.append(policy_ms(profile))
        total.append((profile["endTime"] - profile["startTime"]) / 1000)
    return {
        "policy_pack_ms": round(median(policy), 1),
        "profiled_synth_ms": round(median(total), 1),
    }
