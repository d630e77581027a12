"""bench.common's run machinery: watch_ready watches each key on its own, so one slow answer (an
API's health waiting for its database) does not delay the others' figures; busy_core_seconds
counts the CPU the machine spent."""

from __future__ import annotations

import threading
import time

import pytest

from bench.common import BenchError, busy_core_seconds, watch_ready


def test_a_slow_answer_delays_only_its_own_key() -> None:
    started = time.monotonic()
    opens_at = {"fast": started + 0.2, "slow": started + 1.5}
    calls: dict[str, int] = {"fast": 0, "slow": 0}

    def probe(key: str) -> bool:
        calls[key] += 1
        if key == "slow":
            time.sleep(1.0)  # a health check that waits for its database
        return time.monotonic() >= opens_at[key]

    ready = watch_ready(
        ["slow", "fast"], probe, started=started, timeout_s=10, every_s=0.05
    )
    assert set(ready) == {"slow", "fast"}
    assert 0.2 <= ready["fast"] < 0.6, ready
    assert ready["slow"] >= 1.5
    assert calls["fast"] > calls["slow"]


def test_keys_never_ready_are_missing_after_the_timeout() -> None:
    started = time.monotonic()
    ready = watch_ready(
        ["a", "b"], lambda key: key == "a", started=started, timeout_s=0.5, every_s=0.05
    )
    assert list(ready) == ["a"]
    assert time.monotonic() - started < 2.5


def test_alive_raising_stops_the_watch() -> None:
    started = time.monotonic()
    stopped = threading.Event()

    def alive() -> None:
        if time.monotonic() - started > 0.5:
            stopped.set()
            raise BenchError("the hub exited 1")

    with pytest.raises(BenchError, match="hub exited"):
        watch_ready(
            ["a"], lambda key: False, started=started, timeout_s=30, alive=alive
        )
    assert stopped.is_set() and time.monotonic() - started < 3


def test_busy_core_seconds_counts_the_cpu_spent_between_two_readings() -> None:
    before, cpu0 = busy_core_seconds(), time.process_time()
    while time.process_time() - cpu0 < 0.5:  # half a second of this process's CPU
        pass
    spent = busy_core_seconds() - before
    assert (
        0.4 <= spent < 0.5 + 2 * 5
    )  # others may run too, on two cores for 5 s at most
