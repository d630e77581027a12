"""cold-start: from process start to the first successful POST /predict, for the API
container's command (python -m app) and for the course-style server, on the same model."""

from __future__ import annotations

from typing import Any

from week_testkit.ports import free_port

from bench import invocations as inv
from bench.common import (
    Models,
    Server,
    Size,
    alternate,
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
                models.served_by_api(size),
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

    CPU.clear()
    figures = alternate({"ours": ours, "baseline": baseline}, runs)
    o, b = median(figures["ours"]), median(figures["baseline"])
    cpu = {
        "ours": round(median(CPU["our API"]), 3),
        "baseline": round(median(CPU["course-style server"]), 3),
    }
    log(
        f"cold start: ours {o:.2f} s (CPU {cpu['ours']:.2f} s), course-style {b:.2f} s (CPU {cpu['baseline']:.2f} s)"
    )
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
        cpu_s=cpu,
        note=f"CPU {cpu['ours']:.2f} s vs {cpu['baseline']:.2f} s (server process tree, to the first answer)",
    )
    row.update(goal("python -m app answers its first prediction within 2 s", o < 2.0))
    return [row]


CPU: dict[str, list[float]] = {}


def _once(server: Server) -> float:
    server.start()
    try:
        seconds = server.wait_predicting(timeout=60)
        CPU.setdefault(server.name, []).append(server.cpu_seconds())
        return seconds
    finally:
        server.stop()
