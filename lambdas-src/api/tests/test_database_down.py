"""A database that is down: predictions are still answered (stored: false), health says
degraded, CRUD answers 503, the password never reaches the logs, and storage resumes by itself
when the database comes back."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings, mask_url
from app.main import create_app
from ml.model import TextClassifier
from tests.conftest import TcpProxy, free_port, make_settings

PASSWORD = "s3cr3t-Pa55word"
TEXT = "The prime minister called for early elections."


def closed_port_url() -> str:
    return f"postgresql://week:{PASSWORD}@127.0.0.1:{free_port()}/week"


@pytest.fixture(
    params=["postgres-closed-port", "cloud-sql-socket-missing", "sqlite-unwritable"],
)
def down_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "postgres-closed-port":
        return make_settings(tmp_path, database_url=closed_port_url())
    if request.param == "cloud-sql-socket-missing":
        url = f"postgresql://week:{PASSWORD}@/week?host={tmp_path}/cloudsql/proj:europe-west1:db"
        return make_settings(tmp_path, database_url=url)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    return make_settings(tmp_path, sqlite_path=blocker / "predictions.sqlite3")


@pytest.fixture
def down_client(down_settings: Settings, classifier: TextClassifier) -> Iterator[TestClient]:
    with TestClient(create_app(down_settings, classifier=classifier)) as client:
        yield client


def test_predict_still_answers_without_storing(down_client: TestClient) -> None:
    response = down_client.post("/predict", json={"text": TEXT})
    assert response.status_code == 200
    body = response.json()
    assert (body["label"], body["id"], body["stored"]) == ("politics", None, False)
    assert len(body["probabilities"]) == 3


def test_batch_still_answers_without_storing(down_client: TestClient) -> None:
    response = down_client.post("/predict/batch", json={"texts": [TEXT, TEXT]})
    assert response.status_code == 200
    body = response.json()
    assert body["stored"] is False
    assert [p["id"] for p in body["predictions"]] == [None, None]


def test_health_is_degraded(down_client: TestClient) -> None:
    response = down_client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"]["status"] == "down"
    assert body["model"]["status"] == "ok"


@pytest.mark.parametrize(
    ("method", "path", "json"),
    [
        ("GET", "/predictions", None),
        ("GET", "/predictions/1", None),
        ("PATCH", "/predictions/1", {"corrected_label": "sport"}),
        ("DELETE", "/predictions/1", None),
    ],
)
def test_crud_answers_503_with_a_clear_message(
    down_client: TestClient, method: str, path: str, json: object
) -> None:
    response = down_client.request(method, path, json=json)
    assert response.status_code == 503
    assert response.json() == {"detail": "database unavailable, try again later"}
    assert response.headers["retry-after"] == "5"


def test_the_password_never_reaches_the_logs(
    tmp_path: Path, classifier: TextClassifier, caplog: pytest.LogCaptureFixture
) -> None:
    url = closed_port_url()
    caplog.set_level(logging.DEBUG)
    settings = make_settings(tmp_path, database_url=url)
    with TestClient(create_app(settings, classifier=classifier)) as client:
        client.post("/predict", json={"text": TEXT})
        client.get("/health")
        client.get("/predictions")
    assert PASSWORD not in caplog.text
    masked = f"postgresql://week:***@127.0.0.1:{urlsplit(url).port}/week"
    assert f"database {masked}: down" in caplog.text


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgres://u:p%40ss@host:5432/db", "postgres://u:***@host:5432/db"),
        (
            "postgresql://u:pw@/db?host=/cloudsql/p:r:i",
            "postgresql://u:***@/db?host=/cloudsql/p:r:i",
        ),
        (
            "postgresql://u@h/db?password=pw&sslmode=require",
            "postgresql://u@h/db?password=***&sslmode=require",
        ),
        ("postgresql://h/db", "postgresql://h/db"),
    ],
)
def test_database_urls_are_masked_for_logs(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def wait_for(predicate_name: str, client: TestClient, want: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while client.get("/health").json()["database"]["status"] != want:
        assert time.monotonic() < deadline, f"database never became {want} ({predicate_name})"
        time.sleep(0.1)


def test_storage_resumes_by_itself_when_the_database_comes_back(
    tmp_path: Path, classifier: TextClassifier, fresh_postgres_url: str
) -> None:
    """Through a proxy: down at start (table not created yet), up, down again, up again."""
    real = urlsplit(fresh_postgres_url)
    assert real.hostname is not None and real.port is not None
    proxy = TcpProxy(real.hostname, real.port)
    via_proxy = fresh_postgres_url.replace(f":{real.port}/", f":{proxy.port}/")
    settings = make_settings(tmp_path, database_url=via_proxy)
    try:
        with TestClient(create_app(settings, classifier=classifier)) as client:
            down = client.post("/predict", json={"text": TEXT}).json()
            assert (down["stored"], down["id"]) == (False, None)
            assert client.get("/health").json()["status"] == "degraded"

            proxy.start()
            wait_for("first start", client, "ok")
            up = client.post("/predict", json={"text": TEXT}).json()
            assert up["stored"] is True
            assert client.get(f"/predictions/{up['id']}").status_code == 200

            proxy.stop()
            wait_for("stop", client, "down")
            assert client.post("/predict", json={"text": TEXT}).json()["stored"] is False
            assert client.get("/predictions").status_code == 503

            proxy.start()
            wait_for("restart", client, "ok")
            again = client.post("/predict", json={"text": TEXT}).json()
            assert again["stored"] is True
            listed = client.get("/predictions").json()
            assert [item["id"] for item in listed["items"]] == [again["id"], up["id"]]
            assert client.get("/health").json()["status"] == "ok"
    finally:
        proxy.stop()
