"""Stored predictions: list, read, correct, delete. 503 while the database is down."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response

from app.api.deps import ClassifierDep, RepositoryDep
from app.repository import StoredPrediction
from app.schemas import (
    CanonicalInt,
    CorrectionRequest,
    ErrorResponse,
    Prediction,
    PredictionPage,
    clip,
)

router = APIRouter(prefix="/predictions", tags=["predictions"])

MAX_ID = 2**63 - 1  # BIGINT / SQLite INTEGER range: larger ids are a 422, not a driver error
PredictionId = Annotated[
    int, CanonicalInt, Path(ge=1, le=MAX_ID, description="id of a stored prediction")
]
ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (404, 422, 503)
}


def _out(stored: StoredPrediction) -> Prediction:
    return Prediction(**asdict(stored))


def _not_found(prediction_id: int) -> HTTPException:
    return HTTPException(404, f"prediction {prediction_id} not found")


@router.get(
    "",
    summary="List stored predictions, newest first",
    description=(
        "Page by key for a stable listing: pass the previous page's `next_before` as `before` "
        "(no prediction is listed twice or skipped while others are inserted). `offset` counts "
        "rows from the newest and shifts when predictions are added."
    ),
    responses=ERRORS,
)
def list_predictions(
    repository: RepositoryDep,
    limit: Annotated[int, CanonicalInt, Query(ge=1, le=100, description="page size")] = 20,
    offset: Annotated[int, CanonicalInt, Query(ge=0, le=MAX_ID, description="rows to skip")] = 0,
    before: Annotated[
        int | None,
        CanonicalInt,
        Query(ge=1, le=MAX_ID, description="only ids below this one (keyset paging)"),
    ] = None,
) -> PredictionPage:
    items, total = repository.list_page(limit, offset, before)
    next_before = items[-1].id if len(items) == limit else None
    return PredictionPage(
        items=[_out(i) for i in items],
        total=total,
        limit=limit,
        offset=offset,
        next_before=next_before,
    )


@router.get("/{prediction_id}", summary="Read one stored prediction", responses=ERRORS)
def get_prediction(prediction_id: PredictionId, repository: RepositoryDep) -> Prediction:
    stored = repository.get(prediction_id)
    if stored is None:
        raise _not_found(prediction_id)
    return _out(stored)


@router.patch("/{prediction_id}", summary="Set (or clear) the corrected label", responses=ERRORS)
def correct_prediction(
    prediction_id: PredictionId,
    body: CorrectionRequest,
    repository: RepositoryDep,
    classifier: ClassifierDep,
) -> Prediction:
    label = body.corrected_label
    if label is not None and label not in classifier.classes:
        raise HTTPException(
            422,
            f"corrected_label: must be one of {', '.join(classifier.classes)} (got {clip(label)})",
        )
    stored = repository.set_correction(prediction_id, label)
    if stored is None:
        raise _not_found(prediction_id)
    return _out(stored)


@router.delete(
    "/{prediction_id}", status_code=204, summary="Delete a stored prediction", responses=ERRORS
)
def delete_prediction(prediction_id: PredictionId, repository: RepositoryDep) -> Response:
    if not repository.delete(prediction_id):
        raise _not_found(prediction_id)
    return Response(status_code=204)
