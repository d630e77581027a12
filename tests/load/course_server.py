"""The course-style prediction server (TP3 as the course writes it), the baseline of
bench_predict.py: a plain `def` route that calls `predict_proba` on one text and stores nothing.

    MODEL_PATH=model.joblib uvicorn course_server:app --port 8123      (from tests/load)
"""

from __future__ import annotations

import os

import joblib
from fastapi import FastAPI
from pydantic import BaseModel

payload = joblib.load(os.environ["MODEL_PATH"])
model = payload["pipeline"]
classes = [str(c) for c in model.classes_]

app = FastAPI()


class Item(BaseModel):
    text: str


@app.post("/predict")
def predict(item: Item) -> dict[str, object]:
    probabilities = model.predict_proba([item.text])[0]
    return {
        "label": classes[int(probabilities.argmax())],
        "probabilities": dict(zip(classes, (float(p) for p in probabilities), strict=True)),
    }
