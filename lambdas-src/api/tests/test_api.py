"""The API's routes on both storage backends (SQLite file, real PostgreSQL)."""

from __future__ import annotations

import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app
from app.repository import NewPrediction, SqliteRepository
from ml.model import TextClassifier
from tests.conftest import CLASSES, make_settings, stored_count

SPORT = "The home team won the final after a tense match on Sunday."
TECH = "The chip maker released a faster processor for developers."
POLITICS = "The senate passed the budget bill after a long debate in parliament."


def predict(client: TestClient, text: str) -> dict[str, Any]:
    response = client.post("/predict", json={"text": text})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_hello_world(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.json() == {"message": "Hello World", "docs": "/docs"}


def test_health_reports_model_and_database(client: TestClient, settings: Settings) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {
        "status": "ok",
        "backend": "sqlite" if settings.database_url is None else "postgresql",
    }
    assert body["model"]["status"] == "ok"
    assert body["model"]["classes"] == list(CLASSES)
    assert body["model"]["algorithm"] == "fast"


def test_openapi_docs_are_served(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    schema = client.get("/openapi.json").json()
    assert {"/", "/health", "/predict", "/predict/batch", "/predictions"} <= set(schema["paths"])
    assert set(schema["paths"]["/predictions/{prediction_id}"]) == {"get", "patch", "delete"}


def test_predict_returns_the_label_and_every_class_probability(client: TestClient) -> None:
    body = predict(client, SPORT)
    assert body["label"] == "sport"
    assert set(body["probabilities"]) == set(CLASSES)
    assert sum(body["probabilities"].values()) == pytest.approx(1.0)
    assert body["stored"] is True
    assert isinstance(body["id"], int)


def test_predict_batch_classifies_and_stores_every_text(client: TestClient) -> None:
    response = client.post("/predict/batch", json={"texts": [SPORT, TECH, POLITICS]})
    assert response.status_code == 200
    body = response.json()
    assert body["stored"] is True
    assert [p["label"] for p in body["predictions"]] == ["sport", "tech", "politics"]
    ids = [p["id"] for p in body["predictions"]]
    assert len(set(ids)) == 3
    assert stored_count(client) == 3


def test_crud_round_trip(client: TestClient) -> None:
    created = predict(client, TECH)
    pid = created["id"]

    read = client.get(f"/predictions/{pid}")
    assert read.status_code == 200
    stored = read.json()
    assert stored["text"] == TECH
    assert stored["label"] == created["label"] == "tech"
    assert stored["probabilities"] == pytest.approx(created["probabilities"])
    assert stored["corrected_label"] is None
    assert stored["model_version"].startswith("fast:")
    datetime.fromisoformat(stored["created_at"])

    patched = client.patch(f"/predictions/{pid}", json={"corrected_label": "politics"})
    assert patched.status_code == 200
    assert patched.json()["corrected_label"] == "politics"
    assert client.get(f"/predictions/{pid}").json()["corrected_label"] == "politics"

    cleared = client.patch(f"/predictions/{pid}", json={"corrected_label": None})
    assert cleared.status_code == 200
    assert cleared.json()["corrected_label"] is None

    listed = client.get("/predictions")
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["items"]] == [pid]

    deleted = client.delete(f"/predictions/{pid}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    gone = client.get(f"/predictions/{pid}")
    assert gone.status_code == 404
    assert gone.json() == {"detail": f"prediction {pid} not found"}
    assert client.delete(f"/predictions/{pid}").status_code == 404


def test_list_is_paginated_newest_first(client: TestClient) -> None:
    texts = [f"{SPORT} Match number {i}." for i in range(5)]
    ids = [
        p["id"] for p in client.post("/predict/batch", json={"texts": texts}).json()["predictions"]
    ]

    first = client.get("/predictions", params={"limit": 2}).json()
    assert (first["total"], first["limit"], first["offset"]) == (5, 2, 0)
    assert [item["id"] for item in first["items"]] == ids[::-1][:2]

    last = client.get("/predictions", params={"limit": 2, "offset": 4}).json()
    assert [item["id"] for item in last["items"]] == [ids[0]]

    beyond = client.get("/predictions", params={"offset": 50}).json()
    assert (beyond["items"], beyond["total"]) == ([], 5)


def test_texts_round_trip_unchanged(client: TestClient) -> None:
    text = "Café naïve — 東京 🚀 \"quoted\" 'single' ; DROP TABLE predictions; --\nsecond line\t!"
    pid = predict(client, text)["id"]
    assert client.get(f"/predictions/{pid}").json()["text"] == text
    assert client.get("/predictions").json()["total"] == 1


def test_unexpected_errors_are_a_bare_500_without_details(
    tmp_path: Any, classifier: TextClassifier
) -> None:
    app: FastAPI = create_app(make_settings(tmp_path), classifier=classifier)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail at /etc/app/config.py line 12")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error"}
    assert "secret" not in response.text
    assert "Traceback" not in response.text


def test_the_cloud_sql_socket_url_form_reaches_postgres(
    tmp_path: Path, classifier: TextClassifier, postgres_url: str
) -> None:
    """postgresql://user:pass@/db?host=/cloudsql/PROJECT:REGION:INSTANCE, as Cloud Run mounts it:
    the test cluster's socket is linked in as <dir>/cloudsql/proj:europe-west1:week/.s.PGSQL.5432.
    """
    socket_path = os.environ.get("TEST_POSTGRES_SOCKET")
    if not socket_path:
        pytest.skip("TEST_POSTGRES_SOCKET is not set (scripts/test/py-test.sh sets it)")
    short = Path(tempfile.mkdtemp(prefix="cs", dir="/tmp"))  # unix socket paths are short
    try:
        instance = short / "cloudsql" / "proj:europe-west1:week"
        instance.mkdir(parents=True)
        (instance / ".s.PGSQL.5432").symlink_to(socket_path)
        database = urlsplit(postgres_url).path.lstrip("/")
        url = f"postgresql://postgres:unused-password@/{database}?host={instance}"
        settings = make_settings(tmp_path, database_url=url)
        with TestClient(create_app(settings, classifier=classifier)) as client:
            assert client.get("/health").json()["database"]["status"] == "ok"
            created = predict(client, POLITICS)
            assert created["stored"] is True
            assert client.get(f"/predictions/{created['id']}").json()["text"] == POLITICS
            assert client.delete(f"/predictions/{created['id']}").status_code == 204
    finally:
        shutil.rmtree(short)


def test_sqlite_stores_every_prediction_of_concurrent_requests(tmp_path: Path) -> None:
    """32 writers at once, as under load: each one waits its turn, none is told 'locked'."""
    repo = SqliteRepository(tmp_path / "predictions.sqlite3", timeout_s=2.0)
    repo.ensure_schema()
    item = NewPrediction(text="t", label="sport", probabilities={"sport": 1.0}, model_version="v")

    def write_and_read(_: int) -> None:
        for _ in range(25):
            repo.add_many([item])
            repo.list_page(10, 0)

    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(write_and_read, range(32)))
    assert repo.list_page(1, 0)[1] == 32 * 25
