"""wrk: its output read into figures (canned output as wrk 4.1 prints it), and a real run with
wrk_counts.lua against a small server where wrk is installed."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from week_testkit.ports import free_port
from week_testkit.processes import rss_bytes
from week_testkit.server import ServerProcess
from week_testkit.wrk import Wrk, parse_wrk_output, write_bodies

MIB = 1024 * 1024

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


def test_rss_of_this_process_is_read_and_of_a_gone_process_is_zero() -> None:
    assert rss_bytes(os.getpid()) > 10 * MIB
    assert rss_bytes(2**22 + 12345) == 0  # above the kernel's pid_max limit


# answers 200 to POST /predict with {"stored": true} when the body is one of ours, 422 otherwise
ECHO = """
import http.server, json, sys
class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(b"ok")
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ok = body.get("text", "").startswith("ours ")
        answer = json.dumps({"stored": True}).encode()
        self.send_response(200 if ok else 422)
        self.send_header("Content-Length", str(len(answer))); self.end_headers()
        self.wfile.write(answer)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()
"""


def test_the_command_sends_the_bodies_file_only_for_predictions(tmp_path: Path) -> None:
    wrk = Wrk("wrk", connections=1, threads=2, bodies=tmp_path / "b.jsonl")
    predict = wrk.command("http://127.0.0.1:1/predict", 2, "predict")
    assert predict[-3:] == ["--", "predict", str(tmp_path / "b.jsonl")]
    assert "--threads=1" in predict  # never more threads than connections
    assert wrk.command("http://127.0.0.1:1/", 2.5, "hello")[-2:] == ["--", "hello"]
    assert "--duration=2.5s" in wrk.command("http://127.0.0.1:1/", 2.5, "hello")


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_a_real_run_posts_every_body_of_the_file_and_counts_the_answers(tmp_path: Path) -> None:
    port = free_port()
    server = ServerProcess(
        [sys.executable, "-c", ECHO, str(port)], port=port, log_path=tmp_path / "echo.log"
    )
    bodies = write_bodies([{"text": "ours one"}, {"text": "not ours"}], tmp_path / "b.jsonl")
    with server:
        wrk = Wrk(str(shutil.which("wrk")), connections=2, threads=1, bodies=bodies)
        result = wrk.run(f"{server.base_url}/predict", seconds=1)
        hello = Wrk(str(shutil.which("wrk")), connections=2, threads=1).run(
            f"{server.base_url}/", seconds=1, mode="hello"
        )
    assert result.requests > 10
    assert result.counts["2xx"] > 0 and result.counts["4xx"] > 0  # both bodies were sent
    assert result.counts["stored_true"] == result.requests
    assert result.errors == result.counts["4xx"] + result.socket_error_total
    assert hello.counts["non2xx"] == 0 and hello.counts["2xx"] == hello.requests
