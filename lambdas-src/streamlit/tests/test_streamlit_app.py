"""The Streamlit app, run with Streamlit's AppTest against a real HTTP server standing in for the
API, and against a real model file trained by the API project's ml/algo.py."""

from __future__ import annotations

import csv
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest
from week_testkit.models import train_model

import classifier_client
from classifier_client import (
    NOT_CONFIGURED,
    parse_prediction,
)

STREAMLIT_DIR = Path(__file__).resolve().parents[1]
APP = STREAMLIT_DIR / "streamlit_app.py"

SETTINGS = (
    "API_URL",
    "MODEL_PATH",
    "API_TIMEOUT_S",
    "API_SOURCE_DIR",
    "API_ID_TOKEN_AUDIENCE",
    "GCE_METADATA_HOST",
)
API_ANSWER = {
    "id": 7,
    "label": "sport",
    "probabilities": {"politics": 0.15, "sport": 0.8, "tech": 0.05},
    "stored": True,
}


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)


@dataclass
class FakeApi:
    """What the stand-in API answers to POST /predict, and the bodies it received."""

    url: str = ""
    status: int = 200
    answer: Any = field(default_factory=lambda: dict(API_ANSWER))
    delay_s: float = 0.0
    received: list[tuple[str, Any]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    api = FakeApi()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            api.received.append((self.path, json.loads(body)))
            api.authorizations.append(self.headers.get("Authorization"))
            time.sleep(api.delay_s)
            payload = json.dumps(api.answer).encode()
            try:
                self.send_response(api.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up (the timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()


TRAINING_TEXTS = {
    "sport": [
        "The striker scored a late goal and the football club won the league match",
        "The tennis champion won the final set after a long rally at the tournament",
        "The team trained on the pitch before the rugby match against the champions",
        "The goalkeeper saved a penalty and the fans cheered the football team",
        "The runner won the marathon race and broke the stadium record",
        "The coach picked the squad for the cup final against the league leaders",
        "The cyclist won the mountain stage of the race and kept the yellow jersey",
        "The boxer won the title fight in the third round in front of the fans",
    ],
    "politics": [
        "The parliament voted on the budget bill after a long debate between parties",
        "The minister resigned after the election and the government lost its majority",
        "The senate passed the law and the president signed the new tax reform",
        "The opposition party campaigned for the election with a new manifesto",
        "The prime minister met the cabinet to discuss the coalition government",
        "Voters elected a new mayor and the council approved the city budget",
        "The president vetoed the bill and the parliament called for a new vote",
        "The diplomats negotiated a treaty at the summit of government leaders",
    ],
    "cooking": [
        "Whisk the eggs with sugar and butter then bake the cake in the oven",
        "Simmer the tomato sauce with garlic and basil before adding the pasta",
        "Roast the chicken with lemon and thyme and serve it with potatoes",
        "Knead the bread dough and let it rise before baking the loaf",
        "Chop the onions and fry them in olive oil until golden for the soup",
        "Season the salad with vinegar and oil and sprinkle some fresh herbs",
        "Melt the chocolate with cream to make the sauce for the dessert",
        "Grill the fish and serve it with rice and a spicy pepper sauce",
    ],
}


@pytest.fixture(scope="session")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real model file, trained by the API project's algo.py on a tiny three-class CSV."""
    folder = tmp_path_factory.mktemp("model")
    data = folder / "texts.csv"
    with data.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for label, texts in TRAINING_TEXTS.items():
            writer.writerows([text, label] for text in texts)
    out = folder / "model.joblib"
    return train_model(out, "--fast", data=data)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port with a bound socket that never listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def run_app(text: str | None = None) -> AppTest:
    """Loads the page; with `text`, types it and presses Classify."""
    app = AppTest.from_file(str(APP), default_timeout=30).run()
    if text is not None:
        app.text_area[0].input(text)
        app.button[0].click().run()
    assert not app.exception, app.exception
    return app


def errors(app: AppTest) -> list[str]:
    return [str(element.value) for element in app.error]


def shown_probabilities(app: AppTest) -> dict[str, float]:
    """The probabilities in the table, after checking that the chart plots the same rows."""
    [table] = app.dataframe
    rows = table.value.to_dict("records")
    [chart] = app.get("vega_lite_chart")
    [dataset] = chart.proto.datasets
    assert convert_arrow_bytes_to_pandas_df(dataset.data.data).to_dict("records") == rows
    return {str(row["class"]): float(row["probability"]) for row in rows}


def test_shows_the_probabilities_the_api_returns(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_URL", fake_api.url + "/")

    app = run_app("The striker scored twice.")

    assert errors(app) == []
    assert fake_api.received == [("/predict", {"text": "The striker scored twice."})]
    assert [str(s.value) for s in app.success] == ["Most likely class: **sport**"]
    assert shown_probabilities(app) == {"sport": 0.8, "politics": 0.15, "tech": 0.05}
    assert list(shown_probabilities(app)) == ["sport", "politics", "tech"]  # most likely first


def test_api_url_wins_over_model_path(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("API_URL", fake_api.url)
    monkeypatch.setenv("MODEL_PATH", str(tmp_path / "not-there.joblib"))

    app = run_app("The striker scored twice.")

    assert errors(app) == []
    assert len(fake_api.received) == 1
    assert f"Predictions from the API at {fake_api.url}." in [str(c.value) for c in app.caption]


def test_reports_an_unreachable_api(closed_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_URL", f"http://127.0.0.1:{closed_port}")

    app = run_app("The striker scored twice.")

    [message] = errors(app)
    assert message.startswith(f"Cannot reach the API at http://127.0.0.1:{closed_port}:")
    assert app.dataframe == []


def test_reports_an_api_that_does_not_answer_in_time(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_api.delay_s = 1.0
    monkeypatch.setenv("API_URL", fake_api.url)
    monkeypatch.setenv("API_TIMEOUT_S", "0.2")

    app = run_app("The striker scored twice.")

    assert errors(app) == [f"The API at {fake_api.url} did not answer within 0.2 s."]


def test_reports_the_error_the_api_answers(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_api.status = 422
    fake_api.answer = {"detail": "text: at most 5000 characters (got 6000)"}
    monkeypatch.setenv("API_URL", fake_api.url)

    app = run_app("x" * 6000)

    assert errors(app) == [
        "The API answered 422 Unprocessable Entity: text: at most 5000 characters (got 6000)"
    ]
    assert app.dataframe == []


def test_reports_an_answer_without_probabilities(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_api.answer = {"label": "sport"}
    monkeypatch.setenv("API_URL", fake_api.url)

    app = run_app("The striker scored twice.")

    assert errors(app) == [
        f"The API at {fake_api.url} answered with an unexpected body: no 'probabilities'"
    ]


@pytest.mark.parametrize("text", ["", "  \n\t "], ids=["empty", "blank"])
def test_asks_for_a_text_when_the_text_is_empty(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setenv("API_URL", fake_api.url)

    app = run_app(text)

    assert errors(app) == ["The text is empty: type a sentence to classify."]
    assert fake_api.received == []


def test_says_what_to_set_when_neither_api_nor_model_is_configured() -> None:
    app = run_app()

    assert errors(app) == [NOT_CONFIGURED]
    assert app.text_area == []


def test_rejects_an_api_url_without_a_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_URL", "api:8000")

    app = run_app()

    assert errors(app) == ["API_URL must start with http:// or https://, got 'api:8000'."]


def test_falls_back_to_the_model_file_without_api_url(
    model_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODEL_PATH", str(model_file))

    app = run_app("The goalkeeper saved a penalty and the football fans cheered the team")

    assert errors(app) == []
    assert f"Predictions from the model file {model_file}." in [str(c.value) for c in app.caption]
    probabilities = shown_probabilities(app)
    assert set(probabilities) == {"sport", "politics", "cooking"}
    assert sum(probabilities.values()) == pytest.approx(1.0)
    assert max(probabilities, key=lambda label: probabilities[label]) == "sport"
    assert [str(s.value) for s in app.success] == ["Most likely class: **sport**"]


def test_reports_a_model_file_that_does_not_exist(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.joblib"
    monkeypatch.setenv("MODEL_PATH", str(missing))

    app = run_app("The striker scored twice.")

    [message] = errors(app)
    assert message.startswith(f"Cannot use MODEL_PATH: {missing}: model file not found")


def test_reports_a_model_path_without_the_api_project(
    model_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MODEL_PATH", str(model_file))
    monkeypatch.setenv("API_SOURCE_DIR", str(tmp_path))

    app = run_app("The striker scored twice.")

    [message] = errors(app)
    assert message.startswith("MODEL_PATH needs the API project's ml package, not found in")


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ([], "expected a JSON object, got list"),
        ({"label": "", "probabilities": {"a": 1.0}}, "no 'label'"),
        ({"label": "a", "probabilities": {"a": "high"}}, "probability of 'a' is not a number"),
        ({"label": "a", "probabilities": {"a": True}}, "probability of 'a' is not a number"),
        ({"label": "a", "probabilities": {"a": 1.5}}, "probability of 'a' is 1.5, not between"),
    ],
)
def test_parse_prediction_rejects_what_the_page_cannot_show(payload: Any, problem: str) -> None:
    with pytest.raises(ValueError, match=f"^{problem}"):
        parse_prediction(payload)


@pytest.fixture
def metadata_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str | None]]]:
    """A stand-in for Cloud Run's metadata server; records (path, Metadata-Flavor) per request."""
    seen: list[tuple[str, str | None]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("Metadata-Flavor")))
            ok = self.headers.get("Metadata-Flavor") == "Google"
            payload = b"id-token-for-test" if ok else b"missing Metadata-Flavor"
            self.send_response(200 if ok else 403)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    monkeypatch.setenv("GCE_METADATA_HOST", f"127.0.0.1:{server.server_address[1]}")
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


def test_sends_an_identity_token_to_a_private_api(
    fake_api: FakeApi,
    metadata_server: list[tuple[str, str | None]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    classifier_client._id_tokens.clear()
    monkeypatch.setenv("API_URL", fake_api.url)
    monkeypatch.setenv("API_ID_TOKEN_AUDIENCE", "https://week-api-xyz.a.run.app")
    app = run_app("The striker scored a late goal")
    assert errors(app) == []
    assert fake_api.authorizations == ["Bearer id-token-for-test"]
    path, flavor = metadata_server[0]
    assert path.startswith(classifier_client.METADATA_IDENTITY_PATH)
    assert "audience=https%3A%2F%2Fweek-api-xyz.a.run.app" in path
    assert flavor == "Google"


def test_sends_no_token_without_an_audience(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_URL", fake_api.url)
    run_app("The striker scored a late goal")
    assert fake_api.authorizations == [None]


def test_reports_a_metadata_server_that_cannot_be_reached(
    fake_api: FakeApi, closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    classifier_client._id_tokens.clear()
    monkeypatch.setenv("API_URL", fake_api.url)
    monkeypatch.setenv("API_ID_TOKEN_AUDIENCE", "https://week-api-xyz.a.run.app")
    monkeypatch.setenv("GCE_METADATA_HOST", f"127.0.0.1:{closed_port}")
    app = run_app("The striker scored a late goal")
    assert len(errors(app)) == 1
    assert errors(app)[0].startswith(
        "Cannot get an identity token for the API from the metadata server"
    )
    assert fake_api.received == []
