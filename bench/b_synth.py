"""synth: `npm run synth` against the cdktf template's default (`cdktf synth` running the app
with type-checking ts-node), and `npx cdktf synth` against `npx cdktf --version` (the CLI's
floor). Alternated runs, medians; each run writes to its own temporary folder."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench import invocations as inv
from bench.common import (
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


def _in_tmp(cmd: list[str]) -> float:
    outdir = Path(tempfile.mkdtemp(prefix="synth-"))
    try:
        command = [c.replace("{outdir}", str(outdir)) for c in cmd]
        return timed(
            command, env={**inv.SYNTH_ENV, "CDKTF_OUTDIR": str(outdir)}, timeout=300
        )
    finally:
        shutil.rmtree(outdir, ignore_errors=True)


def run(size: Size, models: Any) -> list[dict[str, Any]]:
    runs = 1 if size.tiny else 5
    commands = {
        "npm run synth": lambda: _in_tmp(inv.npm_synth()),
        "npx cdktf --version": lambda: _in_tmp(inv.cdktf_version()),
    }
    if not size.tiny:
        template_app = inv.ts_node_app(ts_node_bin())
        commands["cdktf synth + ts-node (template default)"] = lambda: _in_tmp(
            inv.cdktf_synth(template_app)
        )
        commands["npx cdktf synth"] = lambda: _in_tmp(inv.cdktf_synth())
    _in_tmp(
        inv.npm_synth()
    )  # warm the transpile cache and the file system, not measured
    figures = alternate(commands, runs)
    m = {name: median(values) for name, values in figures.items()}
    for name, value in m.items():
        log(
            f"synth: {name} {value:.2f} s (runs {', '.join(f'{v:.2f}' for v in figures[name])})"
        )
    rows = []
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
            all_runs=figures,
        )
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
        all_runs=figures,
    )
    row.update(
        goal(
            ">= 5x faster than the template default, npm run synth under 1 s",
            base >= 5 * ours and ours < 1.0,
        )
    )
    rows.append(row)
    cli = m["npx cdktf synth"]
    row = result(
        "synth-cli-vs-cli-floor",
        "s",
        "npx cdktf --version (the CLI's floor)",
        m["npx cdktf --version"],
        cli,
        higher_is_better=False,
        runs=runs,
        all_runs=figures,
        note=f"the CLI costs {cli - m['npx cdktf --version']:.2f} s above its floor",
    )
    rows.append(row)
    return rows
