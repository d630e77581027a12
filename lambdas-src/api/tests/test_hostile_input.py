"""Hostile and malformed requests: each is a 4xx whose detail says what is wrong, never a 500,
never a stack trace, and nothing is stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from ml.model import TextClassifier
from tests.conftest import make_settings, stored_count

MAX_BODY_BYTES = 8192
MAX_TEXT_CHARS = 200
MAX_BATCH_SIZE = 8
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    status: int
    detail: str  # must appear in the response's "detail"
    request: dict[str, Any] = field(default_factory=dict)  # httpx arguments

    @staticmethod
    def raw(
        id: str, body: bytes, status: int, detail: str, headers: dict[str, str] | None = None
    ) -> Case:
        return Case(
            id,
            "POST",
            "/predict",
            status,
            detail,
            {"content": body, "headers": JSON if headers is None else headers},
        )

    @staticmethod
    def predict(id: str, body: Any, status: int, detail: str, path: str = "/predict") -> Case:
        return Case(id, "POST", path, status, detail, {"json": body})


def chunks(total: int) -> Iterator[bytes]:
    """A body sent without Content-Length (chunked): the limit must count the bytes."""
    yield b'{"text": "'
    sent = 10
    while sent < total:
        yield b"a" * 1024
        sent += 1024
    yield b'"}'


CASES = [
    # --- text field
    Case.predict("empty-text", {"text": ""}, 422, "text: must not be empty or only whitespace"),
    Case.predict("whitespace-text", {"text": " \n\t  "}, 422, "text: must not be empty"),
    Case.predict("missing-field", {}, 422, "text: field required"),
    Case.predict("null-text", {"text": None}, 422, "text: must be a string"),
    Case.predict("number-text", {"text": 42}, 422, "text: must be a string"),
    Case.predict("bool-text", {"text": True}, 422, "text: must be a string"),
    Case.predict("list-text", {"text": ["a", "b"]}, 422, "text: must be a string"),
    Case.predict("object-text", {"text": {"a": 1}}, 422, "text: must be a string"),
    Case.predict("unknown-field", {"text": "ok", "lang": "en"}, 422, "lang: unknown field"),
    Case.predict("misspelt-field", {"txt": "hello"}, 422, "text: field required; txt: unknown"),
    Case.predict(
        "nul-char", {"text": "abc\u0000def"}, 422, "control character U+0000 at position 3"
    ),
    Case.predict("escape-seq", {"text": "\u001b[31mred"}, 422, "control character U+001B"),
    Case.predict("del-char", {"text": "abc\u007f"}, 422, "control character U+007F"),
    Case.raw("lone-surrogate", b'{"text": "abc \\ud800"}', 422, "unpaired surrogate U+D800"),
    Case.predict(
        "text-too-long", {"text": "a" * (MAX_TEXT_CHARS + 1)}, 422, f"at most {MAX_TEXT_CHARS} ch"
    ),
    # --- body shape and encoding
    Case.raw("json-array-body", b'["hello"]', 422, "request body: must be a JSON object"),
    Case.raw("json-string-body", b'"hello"', 422, "request body: must be a JSON object"),
    Case.raw("truncated-json", b'{"text": "hel', 400, "not valid JSON"),
    Case.raw("trailing-garbage", b'{"text": "hello"} x', 400, "not valid JSON: Extra data"),
    Case.raw("single-quotes", b"{'text': 'hello'}", 400, "not valid JSON"),
    Case.raw("nan-literal", b'{"text": NaN}', 422, "text: must be a string"),
    Case.raw("invalid-utf8", b'{"text": "caf\xe9 \xff"}', 400, "not valid UTF-8"),
    Case.raw("utf16-body", '{"text": "hi"}'.encode("utf-16"), 400, "not valid UTF-8"),
    Case.raw("nested-too-deep", b'{"text": ' + b"[" * 40 + b"]" * 40 + b"}", 400, "nested deeper"),
    Case.raw("recursion-bomb", b"[" * 6000, 400, "not valid JSON"),
    Case.raw("huge-integer", b'{"text": ' + b"9" * 5000 + b"}", 400, "not valid JSON"),
    Case.raw("text-plain", b'{"text": "hi"}', 415, "Content-Type", {"Content-Type": "text/plain"}),
    Case.raw(
        "form-encoded",
        b"text=hi",
        415,
        "unsupported Content-Type",
        {"Content-Type": "application/x-www-form-urlencoded"},
    ),
    Case.raw("no-content-type", b'{"text": "hi"}', 415, "Content-Type header missing", {}),
    Case.raw(
        "latin1-charset",
        b'{"text": "hi"}',
        415,
        "unsupported charset 'latin-1'",
        {"Content-Type": "application/json; charset=latin-1"},
    ),
    Case.raw("oversized-body", b'{"text": "' + b"a" * MAX_BODY_BYTES + b'"}', 413, "larger than"),
    Case(
        "oversized-chunked",
        "POST",
        "/predict",
        413,
        f"larger than the limit of {MAX_BODY_BYTES} bytes",
        {"content": chunks(MAX_BODY_BYTES * 3), "headers": JSON},
    ),
    Case.raw("no-body", b"", 422, "request body: field required"),
    # --- batch
    Case.predict(
        "empty-batch",
        {"texts": []},
        422,
        "texts: List should have at least 1 item",
        "/predict/batch",
    ),
    Case.predict(
        "huge-batch",
        {"texts": ["a text"] * (MAX_BATCH_SIZE + 1)},
        422,
        f"at most {MAX_BATCH_SIZE} texts per request (got {MAX_BATCH_SIZE + 1})",
        "/predict/batch",
    ),
    Case.predict(
        "batch-not-list", {"texts": "a text"}, 422, "texts: must be a list", "/predict/batch"
    ),
    Case.predict(
        "batch-empty-item",
        {"texts": ["ok", " "]},
        422,
        "texts.1: must not be empty",
        "/predict/batch",
    ),
    Case.predict(
        "batch-number-item",
        {"texts": ["ok", 3]},
        422,
        "texts.1: must be a string",
        "/predict/batch",
    ),
    Case.predict(
        "batch-long-item",
        {"texts": ["ok", "b" * 201]},
        422,
        "texts.1: at most 200",
        "/predict/batch",
    ),
    # --- stored predictions
    Case("unknown-id", "GET", "/predictions/123456", 404, "prediction 123456 not found"),
    Case(
        "non-integer-id",
        "GET",
        "/predictions/abc",
        422,
        "path parameter prediction_id: must be an integer",
    ),
    Case("float-id", "GET", "/predictions/1.5", 422, "prediction_id: must be an integer"),
    Case("zero-id", "GET", "/predictions/0", 422, "greater than or equal to 1"),
    Case("id-beyond-bigint", "GET", "/predictions/" + "9" * 30, 422, "less than or equal to"),
    Case("delete-unknown-id", "DELETE", "/predictions/77", 404, "prediction 77 not found"),
    Case(
        "patch-unknown-id",
        "PATCH",
        "/predictions/77",
        404,
        "prediction 77 not found",
        {"json": {"corrected_label": "sport"}},
    ),
    Case(
        "patch-unknown-label",
        "PATCH",
        "/predictions/1",
        422,
        "corrected_label: must be one of politics, sport, tech (got 'cooking')",
        {"json": {"corrected_label": "cooking"}},
    ),
    Case(
        "patch-extra-field",
        "PATCH",
        "/predictions/1",
        422,
        "corrected_label: field required; label: unknown field",
        {"json": {"label": "sport"}},
    ),
    Case("limit-zero", "GET", "/predictions?limit=0", 422, "query parameter limit"),
    Case("limit-too-big", "GET", "/predictions?limit=1000", 422, "less than or equal to 100"),
    Case("negative-offset", "GET", "/predictions?offset=-1", 422, "query parameter offset"),
    Case("non-integer-limit", "GET", "/predictions?limit=ten", 422, "limit: must be an integer"),
    # --- routing
    Case("wrong-method", "PUT", "/predict", 405, "Method Not Allowed", {"json": {"text": "hi"}}),
    Case("unknown-route", "GET", "/predict/../../etc/passwd", 404, "Not Found"),
]


@pytest.fixture(scope="module")
def hostile_client(
    tmp_path_factory: pytest.TempPathFactory, classifier: TextClassifier
) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path_factory.mktemp("hostile"),
        max_body_bytes=MAX_BODY_BYTES,
        max_text_chars=MAX_TEXT_CHARS,
        max_batch_size=MAX_BATCH_SIZE,
    )
    with TestClient(create_app(settings, classifier=classifier)) as client:
        yield client


def test_there_are_at_least_25_cases() -> None:
    assert len(CASES) >= 25
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_request_is_a_clear_4xx_and_stores_nothing(
    hostile_client: TestClient, case: Case
) -> None:
    response = hostile_client.request(case.method, case.path, **case.request)
    assert response.status_code == case.status, response.text
    body = response.json()
    assert list(body) == ["detail"]
    assert isinstance(body["detail"], str)
    assert case.detail in body["detail"]
    assert "Traceback" not in response.text
    assert stored_count(hostile_client) == 0


def test_a_valid_request_after_the_table_is_still_answered(hostile_client: TestClient) -> None:
    response = hostile_client.post("/predict", json={"text": "The senate passed the bill."})
    assert response.status_code == 200
    assert response.json()["stored"] is True


def test_the_body_limit_accepts_a_body_just_under_it(hostile_client: TestClient) -> None:
    text = "a" * MAX_TEXT_CHARS
    body = json.dumps({"text": text}).encode()
    assert len(body) < MAX_BODY_BYTES
    response = hostile_client.post("/predict", content=body, headers=JSON)
    assert response.status_code == 200
