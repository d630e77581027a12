"""Malformed requests on raw sockets, through every error path of the HTTP parser (llhttp, via
httptools, via uvicorn), sent to our server (`python -m app`, with its limits) and to a stock
uvicorn serving the same app side by side: the status must be the same (400 for each error),
and our log holds no traceback. The limits keep answering 431 where stock uvicorn has none."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import API_ROOT, Server, api_env, free_port, running_api

# (case id, raw request). Each is complete, so a server that accepts it answers at once.
H = b"Host: x\r\nConnection: close\r\n"
POST = b"POST /predict HTTP/1.1\r\n" + H + b"Content-Type: application/json\r\n"
BODY = b'{"text": "The striker scored twice."}'
CASES: list[tuple[str, bytes]] = [
    # request line: method
    ("method-invalid-char", b"G@T / HTTP/1.1\r\n" + H + b"\r\n"),
    ("method-unknown", b"FOO / HTTP/1.1\r\n" + H + b"\r\n"),
    ("method-lowercase", b"get / HTTP/1.1\r\n" + H + b"\r\n"),
    ("method-empty", b" / HTTP/1.1\r\n" + H + b"\r\n"),
    # request line: target (llhttp, then uvicorn's parse_url in a callback)
    ("connect-authority-form", b"CONNECT example.com:443 HTTP/1.1\r\n" + H + b"\r\n"),
    ("absolute-bad-port", b"GET http://x:abc/ HTTP/1.1\r\n" + H + b"\r\n"),
    ("absolute-bad-ipv6", b"GET http://[::1/ HTTP/1.1\r\n" + H + b"\r\n"),
    ("absolute-no-host", b"GET http:/// HTTP/1.1\r\n" + H + b"\r\n"),
    ("target-control-char", b"GET /a\x01b HTTP/1.1\r\n" + H + b"\r\n"),
    ("target-non-ascii", b"GET /\xff HTTP/1.1\r\n" + H + b"\r\n"),
    ("target-missing", b"GET  HTTP/1.1\r\n" + H + b"\r\n"),
    ("target-fragment-only", b"GET # HTTP/1.1\r\n" + H + b"\r\n"),
    # request line: version
    ("version-letters", b"GET / HTTP/1.x\r\n" + H + b"\r\n"),
    ("version-unknown", b"GET / HTTP/9.9\r\n" + H + b"\r\n"),
    ("version-bad-name", b"GET / HTP/1.1\r\n" + H + b"\r\n"),
    ("version-missing", b"GET /\r\n" + H + b"\r\n"),
    ("request-line-extra-space", b"GET / HTTP/1.1 \r\n" + H + b"\r\n"),
    ("request-line-cr-only", b"GET / HTTP/1.1\rHost: x\r\n\r\n"),
    # headers
    ("header-no-colon", b"GET / HTTP/1.1\r\nHost x\r\n" + H + b"\r\n"),
    ("header-space-in-name", b"GET / HTTP/1.1\r\nHo st: x\r\n" + H + b"\r\n"),
    ("header-space-before-colon", b"GET / HTTP/1.1\r\nX-A : 1\r\n" + H + b"\r\n"),
    ("header-nul-in-name", b"GET / HTTP/1.1\r\nX-\x00: 1\r\n" + H + b"\r\n"),
    ("header-nul-in-value", b"GET / HTTP/1.1\r\nX-A: a\x00b\r\n" + H + b"\r\n"),
    ("header-cr-in-value", b"GET / HTTP/1.1\r\nX-A: a\rb\r\n" + H + b"\r\n"),
    ("header-obs-fold", b"GET / HTTP/1.1\r\nX-A: a\r\n b\r\n" + H + b"\r\n"),
    ("header-empty-name", b"GET / HTTP/1.1\r\n: 1\r\n" + H + b"\r\n"),
    ("line-ends-lf-only", b"GET / HTTP/1.1\nHost: x\nConnection: close\n\n"),
    # body framing
    ("content-length-letters", POST + b"Content-Length: abc\r\n\r\n" + BODY),
    ("content-length-negative", POST + b"Content-Length: -1\r\n\r\n" + BODY),
    ("content-length-two-values", POST + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n{}"),
    ("content-length-list", POST + b"Content-Length: 2, 2\r\n\r\n{}"),
    ("content-length-overflow", POST + b"Content-Length: 99999999999999999999999\r\n\r\n"),
    (
        "content-length-and-chunked",
        POST + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    ),
    ("chunked-not-last", POST + b"Transfer-Encoding: chunked, gzip\r\n\r\n2\r\n{}\r\n0\r\n\r\n"),
    ("transfer-encoding-unknown", POST + b"Transfer-Encoding: foo\r\n\r\n{}"),
    ("chunk-size-not-hex", POST + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
    (
        "chunk-size-overflow",
        POST + b"Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n{}\r\n0\r\n\r\n",
    ),
    ("chunk-data-no-crlf", POST + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n"),
    ("chunk-extension-ctl", POST + b"Transfer-Encoding: chunked\r\n\r\n2;\x01\r\n{}\r\n0\r\n\r\n"),
    ("chunk-size-space", POST + b"Transfer-Encoding: chunked\r\n\r\n2 \r\n{}\r\n0\r\n\r\n"),
    # upgrades and oddities that are not errors
    ("upgrade-h2c", b"GET / HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nHost: x\r\n\r\n"),
    ("upgrade-websocket", b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
    ("http-1-0", b"GET / HTTP/1.0\r\n\r\n"),
    ("absolute-form-good", b"GET http://x/health HTTP/1.1\r\n" + H + b"\r\n"),
    ("asterisk-options", b"OPTIONS * HTTP/1.1\r\n" + H + b"\r\n"),
    ("good-post", POST + b"Content-Length: %d\r\n\r\n" % len(BODY) + BODY),
    (
        "good-chunked",
        POST + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % len(BODY) + BODY + b"\r\n0\r\n\r\n",
    ),
]
# every other case is a 400
NOT_400 = {
    "version-missing": 200,  # llhttp reads a request line without version as HTTP/0.9
    "upgrade-h2c": 200,  # an upgrade uvicorn does not do is served as a plain request
    "http-1-0": 200,
    "absolute-form-good": 200,
    "asterisk-options": 404,  # no route for `*`
    "good-post": 200,
    "good-chunked": 200,
}


def exchange(port: int, raw: bytes, wait_s: float = 3.0) -> bytes:
    """Send `raw`, read until the server closes (or `wait_s` of silence)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait_s) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(raw)
        chunks: list[bytes] = []
        with contextlib.suppress(OSError):
            while data := sock.recv(65536):
                chunks.append(data)
        return b"".join(chunks)


def status_of(answer: bytes) -> int | None:
    if not answer.startswith(b"HTTP/1.1 "):
        return None
    return int(answer.split(b" ", 2)[1])


def stock_ready(port: int) -> bool:
    try:
        return status_of(exchange(port, b"GET /health HTTP/1.1\r\n" + H + b"\r\n")) == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory, fast_model_path: Path
) -> Iterator[tuple[Server, int]]:
    """Ours (`python -m app`) and stock uvicorn (httptools, same app factory, same settings)."""
    tmp = tmp_path_factory.mktemp("parser")
    env = api_env(
        MODEL_PATH=str(fast_model_path),
        SQLITE_PATH=str(tmp / "predictions.sqlite3"),
        PORT=str(free_port()),
        HOST="127.0.0.1",
    )
    stock_port = free_port()
    with (tmp / "stock.log").open("w") as stock_log:
        stock = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app"),
                *("--http", "httptools", "--host", "127.0.0.1", "--port", str(stock_port)),
            ],
            cwd=API_ROOT,
            env=env,
            stdout=stock_log,
            stderr=subprocess.STDOUT,
        )
    try:
        with running_api(env, tmp / "server.log") as ours:
            deadline = time.monotonic() + 30
            while not stock_ready(stock_port):
                assert stock.poll() is None and time.monotonic() < deadline, "stock uvicorn down"
                time.sleep(0.2)
            yield ours, stock_port
    finally:
        stock.terminate()
        stock.wait(timeout=10)


@pytest.mark.parametrize(("case", "raw"), CASES, ids=[c[0] for c in CASES])
def test_a_malformed_request_gets_the_answer_stock_uvicorn_gives(
    servers: tuple[Server, int], case: str, raw: bytes
) -> None:
    ours, stock_port = servers
    port = int(ours.base_url.rsplit(":", 1)[1])
    theirs = status_of(exchange(stock_port, raw))
    answer = exchange(port, raw)
    assert status_of(answer) == theirs, (case, answer[:200])
    assert theirs == NOT_400.get(case, 400), case


def test_no_malformed_request_leaves_a_traceback_in_the_log(servers: tuple[Server, int]) -> None:
    ours, _ = servers
    port = int(ours.base_url.rsplit(":", 1)[1])
    for _, raw in CASES:
        exchange(port, raw)
    log = ours.log()
    assert "Traceback" not in log
    assert "Fatal error" not in log
    assert log.count("Invalid HTTP request received.") >= len(CASES) - len(NOT_400)
