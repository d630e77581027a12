"""Predictions: one text or a bounded batch; each result is stored when the database is up."""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, HTTPException, Response

from app.api.deps import BatcherDep, ClassifierDep, RepositoryDep, SettingsDep
from app.batching import StoredResult, predict_and_store
from app.core.config import Settings
from app.schemas import (
    BatchPredictRequest,
    BatchPredictResponse,
    ErrorResponse,
    PredictionResult,
    PredictRequest,
    PredictResponse,
)

router = APIRouter(prefix="/predict", tags=["predict"])
log = logging.getLogger(__name__)

ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 413, 415, 422, 503)
}


def _check_length(name: str, text: str, settings: Settings) -> None:
    if len(text) > settings.max_text_chars:
        raise HTTPException(
            422, f"{name}: at most {settings.max_text_chars} characters (got {len(text)})"
        )


def _results(stored: list[StoredResult]) -> list[PredictionResult]:
    return [
        PredictionResult(
            id=r.id, label=r.prediction.label, probabilities=r.prediction.probabilities
        )
        for r in stored
    ]


@router.post("", summary="Classify one text", responses=ERRORS, response_model=PredictResponse)
async def predict(body: PredictRequest, batcher: BatcherDep, settings: SettingsDep) -> Response:
    # async: no thread hop per request; the model and the database run in the batcher's thread.
    # The answer is built from values we made (no response-model validation on the hot path);
    # json.dumps writes floats as repr, so probabilities round-trip exactly.
    _check_length("text", body.text, settings)
    result = await batcher.predict(body.text)
    answer = {
        "id": result.id,
        "label": result.prediction.label,
        "probabilities": result.prediction.probabilities,
        "stored": result.stored,
    }
    return Response(json.dumps(answer, separators=(",", ":")), media_type="application/json")


@router.post("/batch", summary="Classify several texts (at most MAX_BATCH_SIZE)", responses=ERRORS)
def predict_batch(
    body: BatchPredictRequest,
    classifier: ClassifierDep,
    repository: RepositoryDep,
    settings: SettingsDep,
) -> BatchPredictResponse:
    if len(body.texts) > settings.max_batch_size:
        raise HTTPException(
            422,
            f"texts: at most {settings.max_batch_size} texts per request (got {len(body.texts)})",
        )
    for index, text in enumerate(body.texts):
        _check_length(f"texts.{index}", text, settings)
    results = predict_and_store(body.texts, classifier, repository)
    return BatchPredictResponse(predictions=_results(results), stored=results[0].stored)
