"""Servers with limits (issue 10, section 4), each class with bad and good cases.

In-process (TestClient): strict path and query integers, invisible-only texts, errors that never
echo unbounded input, HEAD wherever GET, no redirect built from the Host header.
Real sockets against `python -m app` (the Docker CMD): header size and count limits (431),
slow headers and slow bodies (408), each answered then closed.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from ml.model import TextClassifier
from tests.conftest import Server, api_env, free_port, make_settings, running_api


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, classifier: TextClassifier
) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("limits"))
    with TestClient(create_app(settings, classifier=classifier)) as test_client:
        for text in ("The senate passed the bill.", "The striker scored twice."):
            assert test_client.post("/predict", json={"text": text}).json()["stored"] is True
        yield test_client


# ------------------------------------------------------------------------------ integers

NON_CANONICAL = [
    "1_0",
    "+1",
    "01",
    "%201",
    "1%20",
    "1.0",
    "1e1",
    "0x1",
    "%EF%BC%91",
    "%D9%A1",
    "-0",
    "",
    "1%0A",
]
CANONICAL = ["1", "2"]


@pytest.mark.parametrize("raw", NON_CANONICAL)
@pytest.mark.parametrize(
    "template",
    [
        "/predictions/{}",
        "/predictions?limit={}",
        "/predictions?offset={}",
        "/predictions?before={}",
    ],
)
def test_a_non_canonical_integer_is_422(client: TestClient, template: str, raw: str) -> None:
    if raw == "" and template.rsplit("/", 1)[-1] == "{}":
        pytest.skip("an empty path segment is another route")
    response = client.get(template.format(raw))
    assert response.status_code == 422, (template, raw, response.text)
    assert "must be an integer written with ASCII digits only" in response.json()["detail"]


@pytest.mark.parametrize("raw", CANONICAL)
@pytest.mark.parametrize(
    "template",
    [
        "/predictions/{}",
        "/predictions?limit={}",
        "/predictions?offset={}",
        "/predictions?before={}",
    ],
)
def test_a_canonical_integer_is_accepted(client: TestClient, template: str, raw: str) -> None:
    response = client.get(template.format(raw))
    assert response.status_code == 200, (template, raw, response.text)


def test_a_huge_integer_is_422_without_echoing_it(client: TestClient) -> None:
    response = client.get("/predictions/" + "9" * 5000)
    assert response.status_code == 422
    assert "less than or equal to 9223372036854775807, got 5000 digits" in response.text
    assert len(response.text) < 300


# ------------------------------------------------------------------------------ invisible texts

INVISIBLE = {
    "zero-width-space": "\u200b",
    "zero-width-joiners": "\u200c\u200d\u2060",
    "bom": "\ufeff",
    "direction-marks": "\u200e\u200f\u202a\u202e\u2066\u2069",
    "combining-marks": "\u0301\u0308\u20dd",
    "variation-selectors": "\ufe0f\ufe00\U000e0100",
    "soft-hyphen": "\u00ad",
    "tag-characters": "\U000e0041\U000e007f",
    "hangul-fillers": "\u3164\u115f\uffa0",
    "braille-blank": "\u2800",
    "mixed-with-spaces": " \u200b\n\u00a0\u3000\ufeff\u0301 ",
    "mongolian-vowel-separator": "\u180e",
}
VISIBLE = {
    "letter-after-zero-width": "\u200bhello",
    "accented": "e\u0301te\u0301",
    "emoji-with-selector": "\u2764\ufe0f",
    "digits": "42",
    "punctuation": "?!",
    "cjk": "\u653f\u6cbb",
    "arabic-with-rtl-mark": "\u200f\u0645\u0631\u062d\u0628\u0627",
}


@pytest.mark.parametrize("text", INVISIBLE.values(), ids=INVISIBLE.keys())
@pytest.mark.parametrize("path", ["/predict", "/predict/batch"])
def test_a_text_of_invisible_characters_is_refused_like_an_empty_one(
    client: TestClient, path: str, text: str
) -> None:
    body = {"text": text} if path == "/predict" else {"texts": ["ok", text]}
    before = client.get("/predictions").json()["total"]
    response = client.post(path, json=body)
    assert response.status_code == 422, response.text
    assert "must not be empty or only whitespace" in response.json()["detail"]
    assert client.get("/predictions").json()["total"] == before


@pytest.mark.parametrize("text", VISIBLE.values(), ids=VISIBLE.keys())
def test_a_text_with_a_visible_character_is_classified(client: TestClient, text: str) -> None:
    response = client.post("/predict", json={"text": text})
    assert response.status_code == 200, response.text


# ------------------------------------------------------------------------------ bounded echo

BIG = 1_000_000  # in headers
BIG_JSON = 30_000  # in bodies (under the 64 KiB body limit)


ECHO_CASES: list[tuple[str, dict[str, object], int]] = [
    ("content-type", {"headers": {"Content-Type": "x/" + "a" * BIG}, "content": b"{}"}, 415),
    (
        "charset",
        {
            "headers": {"Content-Type": "application/json; charset=" + "b" * BIG},
            "content": b"{}",
        },
        415,
    ),
    ("unknown-keys", {"json": {f"key{i}": 1 for i in range(3000)}}, 422),
    ("one-huge-key", {"json": {"k" * BIG_JSON: 1, "text": "hi"}}, 422),
    ("huge-value", {"json": {"text": "hi", "x": "v" * BIG_JSON}}, 422),
]


@pytest.mark.parametrize(
    ("case", "request_args", "status"), ECHO_CASES, ids=[c[0] for c in ECHO_CASES]
)
def test_errors_do_not_echo_unbounded_input(
    client: TestClient, case: str, request_args: dict[str, object], status: int
) -> None:
    response = client.post("/predict", **request_args)
    assert response.status_code == status, response.text[:300]
    detail = response.json()["detail"]
    assert len(detail) < 400, detail[:500]
    if case == "unknown-keys":
        assert "and 2996 more errors" in detail  # 3000 unknown + 1 missing, 5 reported
    if case in ("content-type", "charset", "one-huge-key"):
        assert "characters)" in detail  # cut, with the real length said


def test_a_bad_correction_label_is_cut_short(client: TestClient) -> None:
    response = client.patch("/predictions/1", json={"corrected_label": "z" * BIG_JSON})
    assert response.status_code == 422
    assert f"({BIG_JSON} characters)" in response.json()["detail"]
    assert len(response.text) < 300


def test_a_short_bad_value_is_shown_whole(client: TestClient) -> None:
    response = client.post("/predict", headers={"Content-Type": "text/csv"}, content=b"{}")
    assert response.status_code == 415
    assert "'text/csv'" in response.json()["detail"]


# ------------------------------------------------------------------------------ HEAD, redirects

GET_PATHS = ["/", "/health", "/predictions", "/predictions/1", "/openapi.json", "/docs"]


@pytest.mark.parametrize("path", GET_PATHS)
def test_head_answers_where_get_does(client: TestClient, path: str) -> None:
    get = client.get(path)
    head = client.head(path)
    assert get.status_code == 200
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]


@pytest.mark.parametrize("path", ["/predictions/999999", "/nowhere"])
def test_head_on_a_missing_resource_is_404_like_get(client: TestClient, path: str) -> None:
    assert client.head(path).status_code == client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/predict/", "/predictions/", "/health/", "/docs/"])
def test_no_redirect_takes_its_host_from_the_request(client: TestClient, path: str) -> None:
    response = client.request(
        "POST" if path == "/predict/" else "GET",
        path,
        headers={"Host": "evil.example"},
        json={"text": "hi"} if path == "/predict/" else None,
        follow_redirects=False,
    )
    assert response.status_code == 404
    assert "location" not in response.headers
    assert "evil.example" not in response.text


# ------------------------------------------------------------------------------ real sockets

MAX_HEADER_BYTES = 4096
MAX_HEADER_COUNT = 20


@pytest.fixture(scope="module")
def limited_server(
    tmp_path_factory: pytest.TempPathFactory, fast_model_path: Path
) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("limited")
    env = api_env(
        MODEL_PATH=str(fast_model_path),
        SQLITE_PATH=str(tmp / "predictions.sqlite3"),
        PORT=str(free_port()),
        HOST="127.0.0.1",
        MAX_HEADER_BYTES=str(MAX_HEADER_BYTES),
        MAX_HEADER_COUNT=str(MAX_HEADER_COUNT),
        HEADER_TIMEOUT_S="1.5",
        BODY_TIMEOUT_S="1.5",
    )
    with running_api(env, tmp / "server.log") as server:
        yield server


def connect(server: Server) -> socket.socket:
    port = int(server.base_url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (fails if it does not)."""
    chunks: list[bytes] = []
    while True:
        data = sock.recv(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


def send_quietly(sock: socket.socket, data: bytes) -> None:
    # the server may refuse and close early: its answer is still to be read
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        sock.sendall(data)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def head(extra: bytes = b"", body: bytes = b"") -> bytes:
    return (
        b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + extra
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


GOOD_BODY = json.dumps({"text": "The striker scored twice."}).encode()


HEADER_CASES: list[tuple[str, bytes | None, int]] = [
    ("one-huge-header", b"X-Big: " + b"a" * (4 * 1024 * 1024) + b"\r\n", 431),
    ("headers-just-over", b"X-A: " + b"a" * MAX_HEADER_BYTES + b"\r\n", 431),
    ("huge-url", None, 431),
    (
        "too-many-headers",
        b"".join(b"X-%d: 1\r\n" % i for i in range(MAX_HEADER_COUNT + 1)),
        431,
    ),
    ("headers-under-limit", b"X-A: " + b"a" * (MAX_HEADER_BYTES - 300) + b"\r\n", 200),
    ("count-at-limit", b"".join(b"X-%d: 1\r\n" % i for i in range(MAX_HEADER_COUNT - 5)), 200),
]


@pytest.mark.parametrize(
    ("case", "extra", "status"), HEADER_CASES, ids=[c[0] for c in HEADER_CASES]
)
def test_header_limits_answer_431_and_close(
    limited_server: Server, case: str, extra: bytes | None, status: int
) -> None:
    with connect(limited_server) as sock:
        if extra is None:
            request = (
                b"GET /predictions?x="
                + b"a" * (2 * MAX_HEADER_BYTES)
                + b" HTTP/1.1\r\nHost: x\r\n\r\n"
            )
        else:  # Connection: close, so that the server closes after a good answer
            request = head(extra + b"Connection: close\r\n", GOOD_BODY)
        send_quietly(sock, request)
        answer = read_all(sock)
    assert status_of(answer) == status, answer[:200]
    if status == 431:
        assert b"connection: close" in answer.lower()
        assert b"request header" in answer
        assert len(answer) < 500


@pytest.mark.parametrize(
    ("case", "pieces", "status", "detail"),
    [
        (
            "slow-headers",
            [b"POST /predict HTTP/1.1\r\n", b"Host: x\r\n", b"X-A: 1\r\n"],
            408,
            b"headers not received",
        ),
        ("nothing-sent", [], 408, b"headers not received"),
        (
            "slow-body",
            [head(body=GOOD_BODY)[: -len(GOOD_BODY)], GOOD_BODY[:5], GOOD_BODY[5:10]],
            408,
            b"body not received",
        ),
    ],
)
def test_slow_senders_get_408_and_are_closed(
    limited_server: Server, case: str, pieces: list[bytes], status: int, detail: bytes
) -> None:
    started = time.monotonic()
    with connect(limited_server) as sock:
        for piece in pieces:
            send_quietly(sock, piece)
            time.sleep(0.6)  # one piece every 0.6 s: each gap is short, the whole is too slow
        answer = read_all(sock)
    elapsed = time.monotonic() - started
    assert status_of(answer) == status, answer[:200]
    assert detail in answer
    assert elapsed < 5  # closed at the 1.5 s limit, not after the client gave up


def test_a_slow_but_timely_request_is_answered(limited_server: Server) -> None:
    request = head(b"Connection: close\r\n", GOOD_BODY)
    with connect(limited_server) as sock:
        for start in range(0, len(request), len(request) // 3 + 1):
            sock.sendall(request[start : start + len(request) // 3 + 1])
            time.sleep(0.3)
        answer = read_all(sock)
    assert status_of(answer) == 200, answer[:300]
    assert b'"stored":true' in answer


def test_keep_alive_requests_each_get_the_full_header_time(limited_server: Server) -> None:
    port = int(limited_server.base_url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for _ in range(3):  # one connection, idle 1 s between requests (under keep-alive)
            conn.request("POST", "/predict", GOOD_BODY, {"Content-Type": "application/json"})
            response = conn.getresponse()
            assert response.status == 200
            assert json.loads(response.read())["stored"] is True
            time.sleep(1.0)
        assert conn.sock is not None  # still the same connection: never reopened
    finally:
        conn.close()
