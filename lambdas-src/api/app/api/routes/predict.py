"""Predictions: one text or a bounded batch; each result is stored when the database is up."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from fastapi import APIRouter, HTTPException

from app.api.deps import ClassifierDep, RepositoryDep, SettingsDep
from app.core.config import Settings
from app.repository import DatabaseUnavailable, NewPrediction, PredictionRepository
from app.schemas import (
    BatchPredictRequest,
    BatchPredictResponse,
    ErrorResponse,
    PredictionResult,
    PredictRequest,
    PredictResponse,
)
from ml.model import TextClassifier

router = APIRouter(prefix="/predict", tags=["predict"])
log = logging.getLogger(__name__)

ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 413, 415, 422)
}


def _check_length(name: str, text: str, settings: Settings) -> None:
    if len(text) > settings.max_text_chars:
        raise HTTPException(
            422, f"{name}: at most {settings.max_text_chars} characters (got {len(text)})"
        )


def _predict_and_store(
    texts: Sequence[str], classifier: TextClassifier, repository: PredictionRepository
) -> tuple[list[PredictionResult], bool]:
    predictions = classifier.predict(texts)
    ids: list[int | None] = [None] * len(texts)
    stored = False
    try:
        saved = repository.add_many(
            [
                NewPrediction(text, p.label, p.probabilities, classifier.version)
                for text, p in zip(texts, predictions, strict=True)
            ]
        )
        ids = [s.id for s in saved]
        stored = True
    except DatabaseUnavailable as exc:
        log.warning("prediction not stored, database unavailable: %s", exc)
    results = [
        PredictionResult(id=i, label=p.label, probabilities=p.probabilities)
        for i, p in zip(ids, predictions, strict=True)
    ]
    return results, stored


@router.post("", summary="Classify one text", responses=ERRORS)
def predict(
    body: PredictRequest,
    classifier: ClassifierDep,
    repository: RepositoryDep,
    settings: SettingsDep,
) -> PredictResponse:
    _check_length("text", body.text, settings)
    [result], stored = _predict_and_store([body.text], classifier, repository)
    return PredictResponse(**result.model_dump(), stored=stored)


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
    results, stored = _predict_and_store(body.texts, classifier, repository)
    return BatchPredictResponse(predictions=results, stored=stored)
