"""npm run bench [-- NAME...] [--size tiny|full] [--out FILE] [--readme]

Runs the benchmarks whose name contains one of the NAMEs (all without), prints a table and
writes bench/results.json (list of results plus the machine summary). --readme rewrites the
README's Performance table from bench/results.json without running anything.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import (
    b_ci,
    b_classroom,
    b_cold_start,
    b_image_size,
    b_predict,
    b_synth,
    b_train,
)
from bench.common import ROOT, BenchError, Models, Size, log, machine, skipped
from bench.report import table, update_readme

RESULTS = ROOT / "bench" / "results.json"

# name -> (benchmark, unit used if it cannot run)
BENCHMARKS: dict[str, tuple[Callable[[Size, Models], list[dict[str, Any]]], str]] = {
    "synth": (b_synth.run, "s"),
    "train": (b_train.run, "s"),
    "predict": (b_predict.run, "req/s"),
    "cold-start": (b_cold_start.run, "s"),
    "image-size": (b_image_size.run, "MB"),
    "ci": (b_ci.run, "s"),
    "classroom": (b_classroom.run, "s"),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="npm run bench --", description=__doc__.split("\n\n")[1]
    )
    parser.add_argument(
        "names", nargs="*", help=f"name filters, among: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument(
        "--size",
        choices=("full", "tiny"),
        default="full",
        help="tiny: seconds per benchmark, for the smoke test (default full)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results file (default bench/results.json; tiny runs: none unless given)",
    )
    parser.add_argument(
        "--readme", action="store_true", help="only rewrite the README's table"
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if not any(n in b or b in n for b in BENCHMARKS)]
    if unknown:
        parser.error(
            f"no benchmark matches {', '.join(unknown)} (names: {', '.join(BENCHMARKS)})"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.readme:
        update_readme(json.loads(RESULTS.read_text()))
        print(f"README.md Performance table rewritten from {RESULTS.relative_to(ROOT)}")
        return 0
    chosen = [
        n
        for n in BENCHMARKS
        if not args.names or any(f in n or n in f for f in args.names)
    ]
    out = (
        args.out if args.out is not None else (RESULTS if args.size == "full" else None)
    )
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="week-bench-") as tmp:
        work = Path(tmp)
        models = Models(work)
        for name in chosen:
            run, unit = BENCHMARKS[name]
            log(f"== {name} ({args.size})")
            bench_started = time.perf_counter()
            try:
                new = run(Size(args.size, work), models)
            except (
                BenchError,
                OSError,
            ) as exc:  # one benchmark failing does not stop the others
                new = [skipped(name, unit, f"failed: {exc}")]
            except Exception as exc:  # noqa: BLE001 - reported in the results, not swallowed
                traceback.print_exc()
                new = [skipped(name, unit, f"failed: {type(exc).__name__}: {exc}")]
            for row in new:
                row.setdefault(
                    "benchmark_seconds", round(time.perf_counter() - bench_started, 1)
                )
            rows.extend(new)
    print(table(rows))
    document = {
        "machine": machine(),
        "size": args.size,
        "seconds": round(time.perf_counter() - started, 1),
        "results": rows,
    }
    if out is not None:
        if (
            out == RESULTS and args.names and RESULTS.is_file()
        ):  # keep the others' latest figures
            previous = json.loads(RESULTS.read_text())
            names = {r["name"] for r in rows}
            kept = [
                r
                for r in previous.get("results", [])
                if r["name"] not in names
                and not any(r["name"].startswith(b) for b in chosen)
            ]
            order = list(BENCHMARKS)

            def rank(row: dict[str, Any]) -> int:
                return next(
                    (i for i, b in enumerate(order) if row["name"].startswith(b)),
                    len(order),
                )

            document["results"] = sorted(
                kept + rows, key=rank
            )  # stable: run order within a benchmark
        out.write_text(json.dumps(document, indent=2) + "\n")
        log(f"wrote {out}")
        if out == RESULTS:
            update_readme(document)
    failed = [r for r in rows if str(r.get("skipped", "")).startswith("failed")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
