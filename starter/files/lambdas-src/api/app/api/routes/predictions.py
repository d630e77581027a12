"""TP3 (Jour 3): the stored predictions, as CRUD routes. Your code goes where the TODOs are.

What the course asks ("créer, lire, mettre à jour, supprimer"): list the stored predictions,
read one, correct its label, delete it. RepositoryDep (app.api.deps) gives you the repository
(list_page, get, set_correction, delete); answer 404 for an unknown id.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from app.schemas import CorrectionRequest

router = APIRouter(prefix="/predictions", tags=["predictions"])


def _todo(route: str) -> HTTPException:
    return HTTPException(501, f"TODO TP3: {route} is not written yet")


@router.get("", summary="List stored predictions, newest first")
def list_predictions(limit: int = 20, offset: int = 0) -> dict[str, object]:
    # TODO TP3: a page of stored predictions: {"items", "total", "limit", "offset"}
    raise _todo("GET /predictions")


@router.get("/{prediction_id}", summary="Read one stored prediction")
def get_prediction(prediction_id: int) -> dict[str, object]:
    # TODO TP3
    raise _todo("GET /predictions/{id}")


@router.patch("/{prediction_id}", summary="Set (or clear) the corrected label")
def correct_prediction(prediction_id: int, body: CorrectionRequest) -> dict[str, object]:
    # TODO TP3
    raise _todo("PATCH /predictions/{id}")


@router.delete("/{prediction_id}", status_code=204, summary="Delete a stored prediction")
def delete_prediction(prediction_id: int) -> None:
    # TODO TP3
    raise _todo("DELETE /predictions/{id}")
