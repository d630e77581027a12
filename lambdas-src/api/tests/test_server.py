"""The real server process (`python -m app`, the Docker CMD): start-up failures, a database
unreachable at start, raw HTTP edge cases, and test/test_api.sh against it."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import joblib
import pytest

from tests.conftest import API_ROOT, Server, api_env, free_port, running_api, start_api

SMOKE_SCRIPT = API_ROOT / "test" / "test_api.sh"
PASSWORD = "n0t-in-logs-Secret"


@pytest.fixture(scope="module")
def failed_starts(
    tmp_path_factory: pytest.TempPathFactory, fast_model_path: Path
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Start `python -m app` with each broken configuration, all at once (imports are slow)."""
    tmp = tmp_path_factory.mktemp("failed-starts")
    corrupt = tmp / "corrupt.joblib"
    corrupt.write_bytes(b"\x80\x04garbage, not a model")
    payload = joblib.load(fast_model_path)
    payload["metadata"]["versions"]["scikit-learn"] = "1.2.0"
    joblib.dump(payload, tmp / "old.joblib")
    envs = {
        "missing": api_env(MODEL_PATH=str(tmp / "missing.joblib")),
        "corrupt": api_env(MODEL_PATH=str(corrupt)),
        "incompatible": api_env(MODEL_PATH=str(tmp / "old.joblib")),
        "bad-settings": api_env(
            MODEL_PATH=str(fast_model_path),
            DATABASE_URL=f"mysql://root:{PASSWORD}@db/week",
            PORT="not-a-port",
        ),
    }
    processes = {name: start_api(env) for name, env in envs.items()}
    results = {}
    for name, process in processes.items():
        stdout, stderr = process.communicate(timeout=120)
        results[name] = subprocess.CompletedProcess(
            process.args, process.returncode, stdout, stderr
        )
    return results


@pytest.mark.parametrize(
    ("case", "code", "words"),
    [
        ("missing", 1, ["missing.joblib: model file not found", "python -m ml.algo"]),
        ("corrupt", 1, ["corrupt.joblib: cannot be read as a model file"]),
        ("incompatible", 1, ["old.joblib: trained with scikit-learn 1.2.0, this runtime has"]),
        ("bad-settings", 2, ["invalid configuration", "DATABASE_URL: must start with", "PORT"]),
    ],
)
def test_start_fails_with_one_clear_line(
    failed_starts: dict[str, subprocess.CompletedProcess[str]],
    case: str,
    code: int,
    words: list[str],
) -> None:
    done = failed_starts[case]
    assert done.returncode == code, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0]
    assert PASSWORD not in done.stderr + done.stdout


@pytest.fixture
def server_env(tmp_path: Path, fast_model_path: Path) -> dict[str, str]:
    return api_env(
        MODEL_PATH=str(fast_model_path),
        SQLITE_PATH=str(tmp_path / "predictions.sqlite3"),
        PORT=str(free_port()),
        HOST="127.0.0.1",
        MAX_BODY_BYTES="4096",
    )


def test_starts_and_reports_a_database_unreachable_at_start(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    db_port = free_port()
    server_env["DATABASE_URL"] = f"postgres://week:{PASSWORD}@127.0.0.1:{db_port}/week"
    with running_api(server_env, tmp_path / "server.log") as server:
        health = get_json(server, "/health")
        assert health["status"] == "degraded"
        assert health["database"] == {"status": "down", "backend": "postgresql"}
        status, body = request(server, "POST", "/predict", b'{"text": "The senate voted."}')
        assert status == 200
        assert json.loads(body)["stored"] is False
    log = server.log()
    assert "Application shutdown complete" in log  # SIGTERM is a graceful shutdown
    assert f"postgres://week:***@127.0.0.1:{db_port}/week: down" in log
    assert PASSWORD not in log


# ------------------------------------------------------------------------------ live server


@pytest.fixture(scope="module")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, fast_model_path: Path
) -> Iterator[Server]:
    """One server for the checks below: on PostgreSQL when TEST_POSTGRES_URL is set."""
    tmp = tmp_path_factory.mktemp("live")
    env = api_env(
        MODEL_PATH=str(fast_model_path),
        SQLITE_PATH=str(tmp / "predictions.sqlite3"),
        PORT=str(free_port()),
        MAX_BODY_BYTES="4096",
    )
    if os.environ.get("TEST_POSTGRES_URL"):
        env["DATABASE_URL"] = os.environ["TEST_POSTGRES_URL"]
    with running_api(env, tmp / "server.log") as server:
        yield server


def request(
    server: Server,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    chunked: bool = False,
) -> tuple[int, bytes]:
    host, port = server.base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if chunked:
            conn.putrequest(method, path)
            for key, value in {**all_headers, "Transfer-Encoding": "chunked"}.items():
                conn.putheader(key, value)
            conn.endheaders()
            assert body is not None
            for start in range(0, len(body), 1000):
                part = body[start : start + 1000]
                try:
                    conn.send(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    break  # the server answered 413 and closed: read that answer
            else:
                conn.send(b"0\r\n\r\n")
        else:
            conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def get_json(server: Server, path: str) -> dict[str, object]:
    status, body = request(server, "GET", path)
    assert status == 200, body
    data: dict[str, object] = json.loads(body)
    return data


def test_binds_port_and_serves_health(live_server: Server) -> None:
    health = get_json(live_server, "/health")
    assert health["status"] == "ok"


def test_a_chunked_body_over_the_limit_is_413_on_the_real_server(live_server: Server) -> None:
    body = b'{"text": "' + b"a" * 20_000 + b'"}'
    status, answer = request(live_server, "POST", "/predict", body, chunked=True)
    assert status == 413
    assert json.loads(answer) == {"detail": "request body is larger than the limit of 4096 bytes"}


def test_a_chunked_body_under_the_limit_is_answered(live_server: Server) -> None:
    body = json.dumps({"text": "The striker scored twice. " * 50}).encode()
    status, answer = request(live_server, "POST", "/predict", body, chunked=True)
    assert status == 200, answer
    assert json.loads(answer)["label"] == "sport"


def test_a_lying_content_length_is_refused(live_server: Server) -> None:
    status, answer = request(
        live_server, "POST", "/predict", b'{"text": "hi"}', headers={"Content-Length": "999999"}
    )
    assert status == 413
    assert b"larger than the limit" in answer


@pytest.mark.skipif(shutil.which("curl") is None, reason="test_api.sh needs curl")
def test_the_smoke_script_passes_against_the_server(live_server: Server) -> None:
    done = subprocess.run(
        ["bash", str(SMOKE_SCRIPT), live_server.base_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert all(line.startswith("ok: ") for line in lines[:-1])
    assert len(lines) >= 12
    assert lines[-1] == f"all {len(lines) - 1} checks passed against {live_server.base_url}"


@pytest.mark.skipif(shutil.which("curl") is None, reason="test_api.sh needs curl")
def test_the_smoke_script_fails_with_one_clear_line_when_nothing_answers() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        ["bash", str(SMOKE_SCRIPT), url], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("FAIL: GET /: no HTTP answer from")
    assert done.stderr.count("\n") == 1


@pytest.mark.skipif(shutil.which("curl") is None, reason="test_api.sh needs curl")
def test_the_smoke_script_needs_a_url() -> None:
    done = subprocess.run(["bash", str(SMOKE_SCRIPT)], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "usage:" in done.stderr
