"""Load and faults against a real server of the API (`python -m app`) on a throw-away PostgreSQL.

1. POST /predict under wrk (32 connections, 2 threads, LOAD_SECONDS) answers every request
   with a 2xx, stores every prediction, and the server's memory levels off; GET / (no model, no
   database) under the same load is the baseline the throughput is compared with.
2. PostgreSQL stopped (pg_ctl stop -m fast) and started again while wrk drives POST /predict
   (FAULT_SECONDS): predictions are still answered (stored: false), /health says degraded, and
   storage resumes by itself, with no restart of the API and no error seen by wrk.

Memory criterion. The baseline is the resident memory (VmRSS of the server and any child) at
the end of a warm-up run: by then the thread pool's threads, their malloc arenas and the
buffers of scikit-learn and psycopg exist. Over the measured run, the growth from that baseline
must stay under GROWTH_LIMIT, and the least-squares slope of its second half (one sample a
second) under SLOPE_LIMIT_PER_MIN. A server that has levelled off shows a slope near zero there
(measured: 0 to +0.6 MiB/min, under 120 B per request); a leak of L bytes per request shows as
L x req/s x 60 per minute: a 4-KiB-per-request leak injected into the server by hand gave
+18 MiB/min at ~75 req/s, over the limit. The limit tolerates a one-off step of about 5 MiB in
that half (a step of h in the middle of a window of T seconds fits a slope of about 1.5 h / T).
The slope is judged only when that half holds 10 samples or more; smaller leaks need a longer
LOAD_SECONDS, over which the growth limit reaches further. Bytes per request are printed.

Times are printed, never asserted: a benchmark on a shared machine measures, it does not judge.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from week_testkit.postgres import PostgresCluster
from week_testkit.processes import ProcessGroups
from week_testkit.server import ServerProcess as ApiServer
from week_testkit.wrk import WrkResult, WrkRun

from loadkit import (
    MIB,
    ApiServers,
    LoadSettings,
    RssSampler,
    Tools,
    say,
    slope_per_minute,
    stored_rows,
)

LOAD = LoadSettings.from_env()
GROWTH_LIMIT = 64 * MIB
SLOPE_LIMIT_PER_MIN = 16 * MIB
SLOPE_MIN_SAMPLES = 10
STOP_AFTER_S = 3.0  # into the fault run, once a prediction has been stored
OUTAGE_MIN_S = 4.0  # PostgreSQL stays down at least this long, and until both signs were seen
RESUME_DEADLINE_S = 30.0  # after pg_ctl start returned: stored: true again within this time
HTTP_TIMEOUT_S = 30.0  # the probes queue behind wrk's 32 connections


def get_json(server: ApiServer, path: str) -> dict[str, Any]:
    response = httpx.get(f"{server.base_url}{path}", timeout=HTTP_TIMEOUT_S)
    assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
    body: dict[str, Any] = response.json()
    return body


def check_clean(name: str, result: WrkResult) -> list[str]:
    """What wrk saw going wrong in a run: answers outside 2xx, socket errors."""
    problems = []
    if result.non_2xx:
        problems.append(f"{name}: {result.non_2xx} answers outside 2xx ({result.counts})")
    if result.socket_error_total:
        problems.append(f"{name}: socket errors {result.socket_errors}")
    return problems


def mib(value: float) -> str:
    return f"{value / MIB:.1f}"


# ------------------------------------------------------------------------------ throughput


@pytest.mark.timeout(300 + LOAD.warmup_seconds + 2 * LOAD.load_seconds)
def test_predict_under_load_answers_every_request_and_memory_levels_off(
    tools: Tools,
    postgres: PostgresCluster,
    api_servers: ApiServers,
    groups: ProcessGroups,
    figures: list[str],
) -> None:
    def wrk(server: ApiServer, path: str, seconds: int, mode: str) -> WrkResult:
        log = api_servers.run_dir / f"wrk-{mode}-{seconds}s.log"
        url = f"{server.base_url}{path}"
        return WrkRun(groups, tools.wrk, url, seconds, mode, log).result()

    with api_servers.running("bench") as server:
        health = get_json(server, "/health")
        assert health["database"]["status"] == "ok", f"storage would not be measured: {health}"
        rows_before = stored_rows(api_servers.database_url)
        with RssSampler(server.pid) as rss:
            rss_start = rss.sample()
            say(f"warm-up: POST /predict for {LOAD.warmup_seconds} s")
            warmup = wrk(server, "/predict", LOAD.warmup_seconds, "predict")
            rss_warm = rss.sample()
            say(f"measured: POST /predict for {LOAD.load_seconds} s")
            started = time.monotonic()
            predict = wrk(server, "/predict", LOAD.load_seconds, "predict")
            ended = time.monotonic()
            rss_end = rss.sample()
            say(f"baseline: GET / for {LOAD.load_seconds} s")
            hello = wrk(server, "/", LOAD.load_seconds, "hello")
        still_running = server.process.poll() is None
        rows_added = stored_rows(api_servers.database_url) - rows_before
        errors_logged = server.log_lines("ERROR")

    second_half = rss.between(started + (ended - started) / 2, ended)
    slope = slope_per_minute(second_half) if len(second_half) >= SLOPE_MIN_SAMPLES else None
    growth = rss_end - rss_warm
    answered = warmup.counts["2xx"] + predict.counts["2xx"]
    stored = warmup.counts["stored_true"] + predict.counts["stored_true"]

    figures.append(
        f"POST /predict vs GET /: {LOAD.load_seconds} s each, {LOAD.connections} connections, "
        f"{LOAD.threads} threads ({tools.wrk.version()}), PostgreSQL {postgres.version()} "
        "(fsync off), LOG_LEVEL=warning"
    )
    figures.append(
        f"  {'':<15}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'sock err':>9}"
        f"{'requests':>10}"
    )
    for name, result in (("POST /predict", predict), ("GET /", hello)):
        figures.append(
            f"  {name:<15}{result.requests_per_s:>9.1f}{result.latency_ms[50]:>9.1f}"
            f"{result.latency_ms[99]:>9.1f}{result.non_2xx:>9}{result.socket_error_total:>9}"
            f"{result.requests:>10}"
        )
    figures.append(
        f"  predict/hello throughput ratio: {predict.requests_per_s / hello.requests_per_s:.3f}"
    )
    figures.append(
        f"  stored: {stored} of {answered} predictions (warm-up included), "
        f"rows added {rows_added}; ERROR lines in the server log: {len(errors_logged)}"
    )
    slope_text = (
        f"{slope / MIB:+.1f} MiB/min (limit {SLOPE_LIMIT_PER_MIN // MIB}), "
        f"{slope / 60 / predict.requests_per_s:+.0f} B/request"
        if slope is not None
        else f"not judged ({len(second_half)} samples < {SLOPE_MIN_SAMPLES})"
    )
    figures.append(
        f"  server RSS MiB: start {mib(rss_start)}, after warm-up ({LOAD.warmup_seconds} s) "
        f"{mib(rss_warm)}, end {mib(rss_end)}; growth {growth / MIB:+.1f} "
        f"(limit {GROWTH_LIMIT // MIB}); slope of the second half {slope_text}"
    )

    assert still_running, f"the server died under load:\n{server.log_tail()}"
    problems = check_clean("warm-up", warmup) + check_clean("POST /predict", predict)
    problems += check_clean("GET /", hello)
    assert not problems, "\n".join(problems) + f"\nserver log:\n{server.log_tail()}"
    # the database is up the whole time: a prediction answered but not stored is lost data
    assert stored == answered, f"{answered - stored} predictions not stored:\n{server.log_tail()}"
    assert rows_added >= stored, f"{stored} answers say stored, {rows_added} rows were added"
    assert not errors_logged, "\n".join(errors_logged[:20])
    assert growth < GROWTH_LIMIT, f"RSS grew {growth / MIB:.1f} MiB after the warm-up"
    if slope is not None:
        assert slope < SLOPE_LIMIT_PER_MIN, f"RSS still rising {slope / MIB:.1f} MiB/min"


# ------------------------------------------------------------------------------ fault


@dataclass(frozen=True)
class Probe:
    kind: str
    """"predict" or "health\""""
    sent: float
    answered: float
    """seconds since wrk started"""
    status: int | None
    """None: no HTTP answer (then `error` says why)"""
    body: dict[str, Any]
    error: str | None = None
    text: str | None = None


class Probes:
    """POST /predict (a distinct text each time) and GET /health, each in a loop of its own
    while wrk runs, every answer recorded with its times."""

    def __init__(self, base_url: str, origin: float, interval_s: float = 0.2) -> None:
        self.base_url = base_url
        self.origin = origin
        self.interval_s = interval_s
        self.records: list[Probe] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, args=(kind,), name=f"probe-{kind}", daemon=True)
            for kind in ("predict", "health")
        ]

    def __enter__(self) -> Probes:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=HTTP_TIMEOUT_S + 5)

    def now(self) -> float:
        return time.monotonic() - self.origin

    def _loop(self, kind: str) -> None:
        with httpx.Client(base_url=self.base_url, timeout=HTTP_TIMEOUT_S) as client:
            number = 0
            while not self._stop.is_set():
                number += 1
                text = f"The senate passed probe bill number {number} after a long debate."
                sent = self.now()
                try:
                    if kind == "predict":
                        response = client.post("/predict", json={"text": text})
                    else:
                        response = client.get("/health")
                    body = response.json() if response.status_code == 200 else {}
                    record = Probe(kind, sent, self.now(), response.status_code, body, None, text)
                except (httpx.HTTPError, ValueError) as exc:
                    record = Probe(kind, sent, self.now(), None, {}, repr(exc), text)
                with self._lock:
                    self.records.append(record)
                self._stop.wait(self.interval_s)

    def select(self, kind: str, predicate: Callable[[Probe], bool] = lambda p: True) -> list[Probe]:
        with self._lock:
            return [p for p in self.records if p.kind == kind and predicate(p)]


def stored(p: Probe) -> bool:
    return p.status == 200 and p.body.get("stored") is True


def not_stored(p: Probe) -> bool:
    return p.status == 200 and p.body.get("stored") is False


def degraded(p: Probe) -> bool:
    return p.status == 200 and p.body.get("status") == "degraded"


def healthy(p: Probe) -> bool:
    return p.status == 200 and p.body.get("status") == "ok"


def wait_until(what: str, condition: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout_s:.0f} s")
        time.sleep(0.1)


@pytest.mark.timeout(300 + 2 * LOAD.fault_seconds)
def test_predictions_go_on_while_postgresql_restarts_under_load(
    tools: Tools,
    postgres: PostgresCluster,
    api_servers: ApiServers,
    groups: ProcessGroups,
    figures: list[str],
) -> None:
    events: dict[str, float] = {}

    with api_servers.running("fault") as server:
        assert get_json(server, "/health")["status"] == "ok"
        rows_before = stored_rows(api_servers.database_url)
        say(f"fault: POST /predict for {LOAD.fault_seconds} s, PostgreSQL stopped and started")
        origin = time.monotonic()
        log = api_servers.run_dir / "wrk-fault.log"
        url = f"{server.base_url}/predict"
        run = WrkRun(groups, tools.wrk, url, LOAD.fault_seconds, "predict", log)
        try:
            with Probes(server.base_url, origin) as probes:
                wait_until(
                    "stored prediction before the stop",
                    lambda: probes.now() >= STOP_AFTER_S and bool(probes.select("predict", stored)),
                    60,
                )
                events["pg_ctl stop -m fast issued"] = probes.now()
                postgres.stop("fast")
                down = events["stopped"] = probes.now()
                assert run.process.poll() is None, "wrk ended before the stop: raise FAULT_SECONDS"
                wait_until(
                    "stored: false and degraded health during the outage",
                    lambda: (
                        probes.now() - down >= OUTAGE_MIN_S
                        and bool(
                            probes.select("predict", lambda p: p.sent >= down and not_stored(p))
                        )
                        and bool(probes.select("health", lambda p: p.sent >= down and degraded(p)))
                    ),
                    60,
                )
                events["pg_ctl start issued"] = probes.now()
                postgres.start()
                up = events["started (same data dir and port)"] = probes.now()
                wait_until(
                    "stored: true after the restart",
                    lambda: bool(probes.select("predict", lambda p: p.sent >= up and stored(p))),
                    RESUME_DEADLINE_S,
                )
                wait_until(
                    "healthy /health after the restart",
                    lambda: bool(probes.select("health", lambda p: p.sent >= up and healthy(p))),
                    RESUME_DEADLINE_S,
                )
                result = run.result()
                events["wrk done"] = probes.now()
        finally:
            run.stop()
        after = probes.select("predict", lambda p: p.sent >= up and stored(p))[0]
        found = httpx.get(f"{server.base_url}/predictions/{after.body['id']}", timeout=30)
        still_running = server.process.poll() is None
        rows_added = stored_rows(api_servers.database_url) - rows_before
        errors_logged = server.log_lines("ERROR")

    stop_issued = events["pg_ctl stop -m fast issued"]
    start_issued = events["pg_ctl start issued"]
    outage_predict = probes.select(
        "predict", lambda p: p.sent >= down and p.answered <= start_issued
    )
    outage_health = probes.select("health", lambda p: p.sent >= down and p.answered <= start_issued)
    first_not_stored = probes.select("predict", lambda p: p.sent >= stop_issued and not_stored(p))
    first_degraded = probes.select("health", lambda p: p.sent >= stop_issued and degraded(p))
    healthy_again = probes.select("health", lambda p: p.sent >= up and healthy(p))
    not_stored_after_up = probes.select("predict", lambda p: p.sent >= up and not_stored(p))
    failed = [p for p in probes.select("predict") + probes.select("health") if p.status != 200]
    probe_stored = len(probes.select("predict", stored))

    timeline = {
        **events,
        "first stored: false (probe)": first_not_stored[0].answered if first_not_stored else None,
        "first /health degraded": first_degraded[0].answered if first_degraded else None,
        "first /health ok again": healthy_again[0].answered,
        f"first stored: true again (id {after.body['id']}, GET /predictions/{{id}}: "
        f"{found.status_code})": after.answered,
    }
    figures.append(
        f"PostgreSQL stopped and started under load ({LOAD.fault_seconds} s of wrk, "
        f"{LOAD.connections} connections), seconds since wrk started:"
    )
    for name, at in sorted(timeline.items(), key=lambda item: item[1] or 0.0):
        figures.append(f"  {at:7.2f}  {name}" if at is not None else f"     never  {name}")
    figures.append(
        f"  wrk: {result.requests} requests, {result.requests_per_s:.1f} req/s, "
        f"p50 {result.latency_ms[50]:.1f} ms, p99 {result.latency_ms[99]:.1f} ms, "
        f"non-2xx {result.non_2xx}, socket errors {result.socket_error_total}; "
        f"stored: true {result.counts['stored_true']}, false {result.counts['stored_false']}"
    )
    figures.append(
        f"  probes: {len(probes.records)} answers, {len(failed)} not 200, "
        f"{len(not_stored_after_up)} stored: false after the restart; rows added {rows_added}; "
        f"ERROR lines in the server log: {len(errors_logged)}"
    )

    assert still_running, f"the server died during the outage:\n{server.log_tail()}"
    assert not failed, "probes without a 200:\n" + "\n".join(map(str, failed[:20]))
    assert not check_clean("wrk during the outage", result), (
        "\n".join(check_clean("wrk during the outage", result)) + f"\n{server.log_tail()}"
    )
    assert outage_predict and all(not_stored(p) and p.body["id"] is None for p in outage_predict), (
        outage_predict
    )
    assert outage_health and all(degraded(p) for p in outage_health), outage_health
    assert all(p.body["database"]["status"] == "down" for p in outage_health)
    assert result.counts["stored_false"] > 0, "wrk never saw the outage"
    assert after.answered - up <= RESUME_DEADLINE_S
    assert found.status_code == 200, found.text
    assert found.json()["text"] == after.text
    assert rows_added >= result.counts["stored_true"] + probe_stored, (
        f"answers say {result.counts['stored_true'] + probe_stored} stored, "
        f"{rows_added} rows were added"
    )
    assert not errors_logged, "\n".join(errors_logged[:20])
