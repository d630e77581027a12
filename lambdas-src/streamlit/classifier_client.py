"""Where the Streamlit app gets its predictions: the API, or else a model file read in-process.

Kept free of Streamlit so that it can be read and tested on its own. Every failure a user can
cause or meet (a bad setting, an unreachable API, an error answer, an unusable model file) is a
`PredictionError` whose message is one sentence meant for the page.
"""

from __future__ import annotations

import functools
import importlib
import math
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

DEFAULT_TIMEOUT_S = 5.0
# The API project (lambdas-src/api) beside this folder: its `ml` package loads model files.
DEFAULT_API_SOURCE_DIR = Path(__file__).resolve().parent.parent / "api"

NOT_CONFIGURED = (
    "Neither API_URL nor MODEL_PATH is set: point API_URL at the prediction API "
    "(e.g. http://api:8000) or MODEL_PATH at a model file trained by ml/algo.py."
)


class PredictionError(Exception):
    """A prediction could not be made; the message says why, for the user."""


# Google's metadata server, as the Google client libraries find it (GCE_METADATA_HOST overrides).
METADATA_IDENTITY_PATH = "/computeMetadata/v1/instance/service-accounts/default/identity"
# Identity tokens last an hour; one is reused for a quarter of that.
ID_TOKEN_REUSE_S = 900.0
_id_tokens: dict[str, tuple[str, float]] = {}


def identity_token(audience: str, timeout_s: float, env: Mapping[str, str] = os.environ) -> str:
    """An identity token for `audience` from the metadata server of Cloud Run (or GCE).

    A private Cloud Run service only answers callers that send one; the app's service account
    must hold roles/run.invoker on it.
    """
    cached = _id_tokens.get(audience)
    if cached is not None and time.monotonic() - cached[1] < ID_TOKEN_REUSE_S:
        return cached[0]
    host = env.get("GCE_METADATA_HOST", "").strip() or "metadata.google.internal"
    try:
        response = httpx.get(
            f"http://{host}{METADATA_IDENTITY_PATH}",
            params={"audience": audience},
            headers={"Metadata-Flavor": "Google"},
            timeout=timeout_s,
        )
    except httpx.HTTPError as exc:
        raise PredictionError(
            f"Cannot get an identity token for the API from the metadata server at {host}: "
            f"{str(exc) or type(exc).__name__}."
        ) from exc
    token = response.text.strip()
    if not response.is_success or token == "":
        raise PredictionError(
            f"The metadata server at {host} refused an identity token for {audience}: "
            f"{response.status_code} {response.reason_phrase}."
        )
    _id_tokens[audience] = (token, time.monotonic())
    return token


@dataclass(frozen=True)
class Prediction:
    label: str
    probabilities: dict[str, float]


@dataclass(frozen=True)
class Settings:
    """The app's environment. API_URL wins over MODEL_PATH when both are set."""

    api_url: str | None
    model_path: Path | None
    timeout_s: float
    api_source_dir: Path
    id_token_audience: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        api_url = env.get("API_URL", "").strip() or None
        if api_url is not None and not api_url.startswith(("http://", "https://")):
            raise PredictionError(f"API_URL must start with http:// or https://, got {api_url!r}.")
        model_path = env.get("MODEL_PATH", "").strip()
        raw_timeout = env.get("API_TIMEOUT_S", "").strip() or str(DEFAULT_TIMEOUT_S)
        try:
            timeout_s = float(raw_timeout)
        except ValueError:
            timeout_s = math.nan
        if not 0 < timeout_s <= 300:
            raise PredictionError(
                f"API_TIMEOUT_S must be a number of seconds between 0 and 300, got {raw_timeout!r}."
            )
        source_dir = env.get("API_SOURCE_DIR", "").strip()
        return cls(
            api_url=api_url.rstrip("/") if api_url else None,
            model_path=Path(model_path) if model_path else None,
            timeout_s=timeout_s,
            api_source_dir=Path(source_dir) if source_dir else DEFAULT_API_SOURCE_DIR,
            id_token_audience=env.get("API_ID_TOKEN_AUDIENCE", "").strip() or None,
        )

    @property
    def source(self) -> str | None:
        """Where predictions come from, for the page; None when nothing is configured."""
        if self.api_url:
            return f"the API at {self.api_url}"
        if self.model_path:
            return f"the model file {self.model_path}"
        return None


def predict(settings: Settings, text: str) -> Prediction:
    if settings.api_url:
        return predict_with_api(
            settings.api_url, text, settings.timeout_s, settings.id_token_audience
        )
    if settings.model_path:
        return predict_with_model(settings.model_path, text, settings.api_source_dir)
    raise PredictionError(NOT_CONFIGURED)


def predict_with_api(
    api_url: str, text: str, timeout_s: float, id_token_audience: str | None = None
) -> Prediction:
    """POST {api_url}/predict {"text": ...}; reads `label` and `probabilities` from the answer.

    With `id_token_audience` (a private Cloud Run API), the request carries an identity token.
    """
    url = f"{api_url}/predict"
    headers = {}
    if id_token_audience is not None:
        headers["Authorization"] = f"Bearer {identity_token(id_token_audience, timeout_s)}"
    try:
        with httpx.Client(timeout=timeout_s) as client:
            response = client.post(url, json={"text": text}, headers=headers)
    except httpx.TimeoutException as exc:
        raise PredictionError(
            f"The API at {api_url} did not answer within {timeout_s:g} s."
        ) from exc
    except httpx.HTTPError as exc:
        raise PredictionError(
            f"Cannot reach the API at {api_url}: {str(exc) or type(exc).__name__}."
        ) from exc
    if not response.is_success:
        raise PredictionError(
            f"The API answered {response.status_code} {response.reason_phrase}: "
            f"{_error_detail(response)}"
        )
    try:
        return parse_prediction(response.json())
    except ValueError as exc:
        raise PredictionError(
            f"The API at {api_url} answered with an unexpected body: {exc}"
        ) from exc


def _error_detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, str) and detail.strip():
        return detail.strip()
    body = " ".join(response.text.split())
    return body[:200] or "no details given"


def parse_prediction(payload: Any) -> Prediction:
    """Checks the part of the API's answer the page uses: a label and a probability per class."""
    if not isinstance(payload, dict):
        raise ValueError(f"expected a JSON object, got {type(payload).__name__}")
    label = payload.get("label")
    probabilities = payload.get("probabilities")
    if not isinstance(label, str) or not label:
        raise ValueError("no 'label'")
    if not isinstance(probabilities, dict) or not probabilities:
        raise ValueError("no 'probabilities'")
    checked: dict[str, float] = {}
    for name, value in probabilities.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"probability of {name!r} is not a number")
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"probability of {name!r} is {value}, not between 0 and 1")
        checked[str(name)] = float(value)
    return Prediction(label=label, probabilities=checked)


def predict_with_model(model_path: Path, text: str, api_source_dir: Path) -> Prediction:
    """Predicts in-process with the API project's own loader (ml.model.load_model)."""
    model = import_ml_model(api_source_dir)
    try:
        stat = model_path.stat()
        version = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        version = (-1, -1)  # not cached: load_model raises and says what is wrong with the path
    try:
        classifier = _load_classifier(model.load_model, str(model_path.resolve()), *version)
    except model.ModelError as exc:
        raise PredictionError(f"Cannot use MODEL_PATH: {exc}") from exc
    [result] = classifier.predict([text])
    return Prediction(label=str(result.label), probabilities=dict(result.probabilities))


def import_ml_model(api_source_dir: Path) -> Any:
    """Imports the API project's `ml.model`, adding its folder to sys.path once.

    The model file format and its checks belong to the API project (lambdas-src/api/ml): the app
    reuses that code rather than keeping a second loader in step with it.
    """
    folder = str(api_source_dir.resolve())
    if not (api_source_dir / "ml" / "model.py").is_file():
        raise PredictionError(
            f"MODEL_PATH needs the API project's ml package, not found in {folder}: "
            "set API_SOURCE_DIR to the lambdas-src/api folder, or use API_URL."
        )
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        return importlib.import_module("ml.model")
    except ImportError as exc:  # scikit-learn and co. are not in this app's own requirements
        raise PredictionError(
            f"MODEL_PATH needs the API project's requirements (lambdas-src/api/requirements.in): "
            f"{exc}."
        ) from exc


@functools.lru_cache(maxsize=4)
def _load_classifier(load_model: Callable[[Path], Any], path: str, mtime_ns: int, size: int) -> Any:
    """One load per version of the file: a retrained model (new mtime or size) is read again."""
    del mtime_ns, size  # part of the cache key only
    return load_model(Path(path))
