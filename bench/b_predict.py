"""predict: POST /predict, our API storing every prediction (SQLite, PostgreSQL) against the
course-style server (bench/baseline/course_server.py) on the same model, wrk at 16 and 64
connections, alternated runs; and the API's probabilities against the model's own."""

from __future__ import annotations

import contextlib
from typing import Any

from week_testkit.ports import free_port

from bench import invocations as inv
from bench.common import (
    BenchError,
    Models,
    Server,
    Size,
    goal,
    http_json,
    load_pipeline,
    log,
    median,
    postgres,
    result,
    running,
    wrk,
    wrk_bodies,
)

CONNECTIONS = (16, 64)


def run(size: Size, models: Models) -> list[dict[str, Any]]:
    model, described, texts = models.serving(size)
    runs, seconds = (1, 2.0) if size.tiny else (3, 8.0)
    connections = (4,) if size.tiny else CONNECTIONS
    bodies = wrk_bodies(texts, size.work / "predict-bodies.jsonl")
    out: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        stores: dict[str, str | None] = {"sqlite": None}
        if not size.tiny:
            stores["postgres"] = stack.enter_context(postgres(size.work))
        servers = {
            "course-style": Server(
                "course-style server",
                inv.baseline_command(port := _port()),
                inv.BASELINE_DIR,
                inv.baseline_env(model),
                port,
                size.work / "logs" / "course-server.log",
            )
        }
        for store, url in stores.items():
            port = _port()
            servers[store] = Server(
                f"our API ({store})",
                inv.api_command(),
                inv.API_DIR,
                inv.api_env(
                    port,
                    models.served_by_api(size),
                    database_url=url,
                    sqlite_path=size.work / f"predictions-{port}.sqlite3",
                ),
                port,
                size.work / "logs" / f"api-{store}.log",
            )
        stack.enter_context(running(list(servers.values())))
        out.append(
            correctness(servers["sqlite"], model, texts[: 10 if size.tiny else 100])
        )
        for (
            name,
            server,
        ) in servers.items():  # warm-up: first requests, caches, connections
            wrk(server.url, bodies, 4, 1.0)
        for conns in connections:
            figures: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
            for _ in range(runs):
                for name, server in servers.items():
                    figures[name].append(wrk(server.url, bodies, conns, seconds))
            base = _summary(figures["course-style"])
            log(
                f"predict c{conns}: course-style {base['rps']:.0f} req/s p99 {base['p99_ms']:.0f} ms"
            )
            for store in stores:
                ours = _summary(figures[store])
                log(
                    f"predict c{conns}: ours ({store}) {ours['rps']:.0f} req/s p99 {ours['p99_ms']:.0f} ms, "
                    f"{ours['errors']:.0f} errors"
                )
                row = result(
                    f"predict-{store}-c{conns}",
                    "req/s",
                    "course-style server (uvicorn, def route, no storage)",
                    base["rps"],
                    ours["rps"],
                    higher_is_better=True,
                    runs=runs,
                    connections=conns,
                    seconds_per_run=seconds,
                    model=described,
                    p99_ms={
                        "baseline": round(base["p99_ms"], 1),
                        "ours": round(ours["p99_ms"], 1),
                    },
                    p50_ms={
                        "baseline": round(base["p50_ms"], 1),
                        "ours": round(ours["p50_ms"], 1),
                    },
                    errors={"baseline": base["errors"], "ours": ours["errors"]},
                    all_rps={
                        "baseline": [
                            round(f["rps"], 1) for f in figures["course-style"]
                        ],
                        "ours": [round(f["rps"], 1) for f in figures[store]],
                    },
                    api_extra_env=inv.API_EXTRA_ENV,
                )
                met = (
                    ours["rps"] >= 4 * base["rps"]
                    and ours["p99_ms"] < base["p99_ms"]
                    and ours["errors"] == 0
                )
                row.update(
                    goal(">= 4x the course-style req/s, lower p99, no error", met)
                )
                out.append(row)
    return out


def _port() -> int:
    return free_port()


def _summary(runs: list[dict[str, float]]) -> dict[str, float]:
    return {
        key: median([r[key] for r in runs]) for key in ("rps", "p50_ms", "p99_ms")
    } | {"errors": sum(r["errors"] for r in runs)}


def correctness(server: Server, model_path: Any, texts: list[str]) -> dict[str, Any]:
    """Largest |p_api - p_model| over TEXTS, the model's predict_proba called in this process."""
    pipeline = load_pipeline(model_path)
    classes = [str(c) for c in pipeline.classes_]
    worst = 0.0
    for text in texts:
        status, body = http_json(f"{server.url}/predict", inv.predict_request(text))
        if status != 200:
            raise BenchError(
                f"our API answered {status} to POST /predict for {text[:40]!r}"
            )
        got = inv.probabilities_of(body)
        want = dict(
            zip(
                classes,
                (float(p) for p in pipeline.predict_proba([text])[0]),
                strict=True,
            )
        )
        if set(got) != set(want):
            raise BenchError(
                f"our API's classes {sorted(got)} differ from the model's {sorted(want)}"
            )
        worst = max(worst, max(abs(got[c] - want[c]) for c in classes))
    row = result(
        "predict-correctness",
        "max |p_api - p_model|",
        "model's own predict_proba",
        0.0,
        worst,
        higher_is_better=False,
        runs=1,
        texts=len(texts),
    )
    row["ratio"] = None
    row.update(goal("difference under 1e-9", worst < 1e-9))
    log(f"predict correctness: max |delta p| {worst:.3g} over {len(texts)} texts")
    return row
