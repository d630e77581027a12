"""cold-start: from process start to the first successful POST /predict, for the API
container's command (python -m app) and for the course-style server, on the same model."""

from __future__ import annotations

from typing import Any

from bench import invocations as inv
from bench.common import (
    Models,
    Server,
    Size,
    alternate,
    free_port,
    goal,
    log,
    median,
    result,
)


def run(size: Size, models: Models) -> list[dict[str, Any]]:
    model, described, _ = models.serving(size)
    runs = 1 if size.tiny else 5

    def ours() -> float:
        port = free_port()
        server = Server(
            "our API",
            inv.api_command(),
            inv.API_DIR,
            inv.api_env(
                port,
                model,
                database_url=None,
                sqlite_path=size.work / f"cold-{port}.sqlite3",
            ),
            port,
            size.work / "logs" / "cold-api.log",
        )
        return _once(server)

    def baseline() -> float:
        port = free_port()
        server = Server(
            "course-style server",
            inv.baseline_command(port),
            inv.BASELINE_DIR,
            inv.baseline_env(model),
            port,
            size.work / "logs" / "cold-course.log",
        )
        return _once(server)

    figures = alternate({"ours": ours, "baseline": baseline}, runs)
    o, b = median(figures["ours"]), median(figures["baseline"])
    log(f"cold start: ours {o:.2f} s, course-style {b:.2f} s")
    row = result(
        "cold-start",
        "s",
        "course-style server (uvicorn course_server:app)",
        b,
        o,
        higher_is_better=False,
        runs=runs,
        model=described,
        all_runs={k: [round(v, 3) for v in vs] for k, vs in figures.items()},
    )
    row.update(goal("python -m app answers its first prediction within 2 s", o < 2.0))
    return [row]


def _once(server: Server) -> float:
    server.start()
    try:
        return server.wait_predicting(timeout=60)
    finally:
        server.stop()
