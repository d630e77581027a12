"""The helpers on canned input: wrk's output as wrk 4.1 prints it, the slope, the settings.
These need neither wrk nor PostgreSQL."""

from __future__ import annotations

import os
import re

import pytest

from loadkit import MIB, LoadSettings, parse_wrk_output, rss_bytes, slope_per_minute

CLEAN = """\
Running 1m test @ http://127.0.0.1:41234/predict
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   486.25ms  560.80ms   2.52s    85.83%
    Req/Sec    40.19     19.18    90.00     60.38%
  Latency Distribution
     50%  227.41ms
     75%  640.50ms
     90%    1.33s
     99%    2.44s
  6218 requests in 1.00m, 53.66KB read
Requests/sec:    103.61
Transfer/sec:     17.64KB
LOADCOUNTS 2xx=6218 non2xx=0 3xx=0 4xx=0 5xx=0 503=0 stored_true=6212 stored_false=6
"""

FAILING = """\
Running 2s test @ http://127.0.0.1:41234/nope
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    18.62ms   17.30ms 111.12ms   87.34%
    Req/Sec     1.05k   524.53     2.15k    65.00%
  Latency Distribution
     50%  812.00us
     75%   11.02ms
     90%   12.44ms
     99%    1.01m
  4223 requests in 2.06s, 565.10KB read
  Socket errors: connect 0, read 3, write 0, timeout 7
  Non-2xx or 3xx responses: 4200
Requests/sec:   2054.25
Transfer/sec:    274.89KB
LOADCOUNTS 2xx=20 non2xx=4203 3xx=3 4xx=4200 5xx=0 503=0 stored_true=0 stored_false=0
"""


def test_reads_rate_percentiles_and_counts_of_a_clean_run() -> None:
    result = parse_wrk_output(CLEAN)
    assert result.requests == 6218
    assert result.requests_per_s == pytest.approx(103.61)
    assert result.latency_ms == pytest.approx({50: 227.41, 75: 640.5, 90: 1330.0, 99: 2440.0})
    assert (result.non_2xx, result.socket_error_total) == (0, 0)
    assert (result.counts["stored_true"], result.counts["stored_false"]) == (6212, 6)


def test_reads_microseconds_minutes_socket_errors_and_every_status_outside_2xx() -> None:
    result = parse_wrk_output(FAILING)
    assert result.latency_ms[50] == pytest.approx(0.812)
    assert result.latency_ms[99] == pytest.approx(60_600.0)
    assert result.socket_errors == {"connect": 0, "read": 3, "write": 0, "timeout": 7}
    assert result.wrk_errors_status == 4200
    # wrk counts statuses >= 400 only; the script's count includes the 3 redirects
    assert result.non_2xx == 4203


@pytest.mark.parametrize(
    "output",
    [
        "",
        CLEAN.replace("Requests/sec:    103.61\n", ""),
        "\n".join(line for line in CLEAN.splitlines() if not line.startswith("LOADCOUNTS")),
        "\n".join(line for line in CLEAN.splitlines() if "%  " not in line),
        CLEAN.replace(" stored_false=6", ""),
    ],
    ids=["empty", "no-rate", "no-counts", "no-latency-distribution", "counts-incomplete"],
)
def test_refuses_output_that_lacks_a_figure(output: str) -> None:
    with pytest.raises(ValueError):
        parse_wrk_output(output)


def test_slope_is_in_bytes_per_minute() -> None:
    rising = [(float(t), 100 * MIB + t * MIB) for t in range(30)]  # 1 MiB a second
    assert slope_per_minute(rising) == pytest.approx(60 * MIB)
    flat = [(float(t), 100 * MIB + (MIB if t % 2 else 0)) for t in range(30)]
    assert abs(slope_per_minute(flat)) < 2 * MIB
    with pytest.raises(ValueError):
        slope_per_minute(rising[:1])


def test_rss_of_this_process_is_read_and_of_a_gone_process_is_zero() -> None:
    assert rss_bytes(os.getpid()) > 10 * MIB
    assert rss_bytes(2**22 + 12345) == 0  # above the kernel's pid_max limit


@pytest.mark.parametrize("value", ["abc", "0", "-5", "1.5", "3601"])
def test_load_seconds_must_be_a_whole_number_in_range(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("LOAD_SECONDS", value)
    with pytest.raises(ValueError, match=rf"LOAD_SECONDS must be .* got {re.escape(repr(value))}"):
        LoadSettings.from_env()


def test_fault_seconds_needs_room_for_the_outage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULT_SECONDS", "5")
    with pytest.raises(ValueError, match=r"FAULT_SECONDS must be .* between 10 and 3600"):
        LoadSettings.from_env()


def test_defaults_are_a_minute_of_load_and_twenty_seconds_of_fault(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LOAD_SECONDS", raising=False)
    monkeypatch.delenv("FAULT_SECONDS", raising=False)
    settings = LoadSettings.from_env()
    assert (settings.load_seconds, settings.fault_seconds) == (60, 20)
    assert (settings.connections, settings.threads, settings.warmup_seconds) == (32, 2, 15)
