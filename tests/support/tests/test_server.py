"""Server processes: ready when they answer, stopped with their children, and a failed start
reported with the end of the log."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from week_testkit import SetupError
from week_testkit.ports import free_port
from week_testkit.server import ServerProcess, http_ok

# a server that forks a child (as uvicorn's workers), then serves 200 on every GET
SERVER = """
import http.server, os, subprocess, sys
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print("child", child.pid, flush=True)
class Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Ok).serve_forever()
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"


def test_a_server_is_ready_when_health_answers_and_stops_with_its_children(
    tmp_path: Path,
) -> None:
    port = free_port()
    server = ServerProcess(
        [sys.executable, "-c", SERVER, str(port)], port=port, log_path=tmp_path / "s.log"
    )
    with server:
        assert http_ok(f"{server.base_url}/health")
        assert server.cpu_seconds() > 0
        child = int(server.log().split()[1])
        assert alive(child)
    assert server.process.poll() is not None
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def test_a_server_that_exits_is_reported_with_its_log(tmp_path: Path) -> None:
    server = ServerProcess(
        [sys.executable, "-c", "print('no model here'); raise SystemExit(3)"],
        port=free_port(),
        log_path=tmp_path / "s.log",
        name="the api",
    )
    with pytest.raises(SetupError, match=r"(?s)the api exited with 3:.*no model here"), server:
        pass


def test_a_server_that_never_answers_times_out(tmp_path: Path) -> None:
    server = ServerProcess(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        port=free_port(),
        log_path=tmp_path / "s.log",
    )
    server.start()
    try:
        with pytest.raises(SetupError, match="server not ready within 1 s"):
            server.wait_ready(timeout_s=1)
    finally:
        server.stop(grace_s=1)
    assert server.process.poll() is not None
