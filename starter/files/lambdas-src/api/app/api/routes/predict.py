"""TP3 (Jour 3): the API's prediction routes. Your code goes where the TODOs are.

What the course asks: a route that takes a text in a JSON body described by a pydantic
`BaseModel` (app.schemas.PredictRequest: {"text": "..."}), classifies it with the model loaded
at start-up, stores the prediction, and answers {"id", "label", "probabilities", "stored"}.
`lambdas-src/api/test/test_api.sh http://127.0.0.1:8000` tells you what is still missing.

Useful: app.api.deps (ClassifierDep: the loaded model, `classifier.predict([text])`;
RepositoryDep: where predictions are stored), app.batching.predict_and_store.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from app.schemas import BatchPredictRequest, PredictRequest

router = APIRouter(prefix="/predict", tags=["predict"])


@router.post("", summary="Classify one text")
async def predict(body: PredictRequest) -> dict[str, object]:
    # TODO TP3: classify body.text, store the prediction, answer id, label, probabilities, stored
    raise HTTPException(501, "TODO TP3: POST /predict is not written yet")


@router.post("/batch", summary="Classify several texts")
async def predict_batch(body: BatchPredictRequest) -> dict[str, object]:
    # TODO TP3: the same for body.texts, answering {"predictions": [...], "stored": ...}
    raise HTTPException(501, "TODO TP3: POST /predict/batch is not written yet")
