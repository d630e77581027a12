"""The prediction API as the course's TP3 writes it: FastAPI, a plain `def` route that calls
predict_proba on one text and stores nothing; served by one uvicorn process:

    MODEL_PATH=model.joblib uvicorn course_server:app --port 8000

The benchmarks' baseline. It reads the same model file as our API (ml/model.py writes the
pipeline inside a dict with its metadata; a bare pipeline, as the course dumps it, works too).
"""

from __future__ import annotations

import os

import joblib
from fastapi import FastAPI
from pydantic import BaseModel

loaded = joblib.load(os.environ["MODEL_PATH"])
model = loaded["pipeline"] if isinstance(loaded, dict) else loaded

app = FastAPI()


class Tweet(BaseModel):
    text: str


@app.get("/")
def hello() -> dict[str, str]:
    return {"message": "Hello World"}


@app.post("/predict")
def predict(tweet: Tweet) -> dict[str, object]:
    probabilities = model.predict_proba([tweet.text])[0]
    classes = [str(c) for c in model.classes_]
    best = int(probabilities.argmax())
    return {
        "label": classes[best],
        "probabilities": {
            c: float(p) for c, p in zip(classes, probabilities, strict=True)
        },
    }
