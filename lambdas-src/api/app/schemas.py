"""Request and response bodies (pydantic). Requests forbid unknown fields and never coerce types."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

ALLOWED_CONTROL = frozenset("\t\n\r")


def check_text(value: str) -> str:
    """Reject texts a model or a database should never see; the error says which rule failed."""
    if not value.strip():
        raise ValueError("must not be empty or only whitespace")
    for position, char in enumerate(value):
        category = unicodedata.category(char)
        if category == "Cc" and char not in ALLOWED_CONTROL:
            raise ValueError(
                f"contains a control character U+{ord(char):04X} at position {position}"
            )
        if category == "Cs":
            raise ValueError(
                f"contains an unpaired surrogate U+{ord(char):04X} at position {position}"
            )
    return value


Text = Annotated[str, AfterValidator(check_text)]


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class PredictRequest(RequestModel):
    text: Text = Field(description="the text to classify", examples=["The striker scored twice."])


class BatchPredictRequest(RequestModel):
    texts: list[Text] = Field(
        min_length=1,
        description="texts to classify (at most MAX_BATCH_SIZE)",
        examples=[["The senate passed the bill.", "A new phone was released."]],
    )


class CorrectionRequest(RequestModel):
    corrected_label: str | None = Field(
        description="one of the model's classes, or null to clear the correction",
        examples=["sport"],
    )


class PredictionResult(BaseModel):
    id: int | None = Field(description="id of the stored prediction; null when not stored")
    label: str
    probabilities: dict[str, float] = Field(description="probability of every class")


class PredictResponse(PredictionResult):
    stored: bool = Field(description="false when the database was unavailable")


class BatchPredictResponse(BaseModel):
    predictions: list[PredictionResult]
    stored: bool


class Prediction(BaseModel):
    id: int
    created_at: datetime
    text: str
    label: str
    probabilities: dict[str, float]
    corrected_label: str | None
    model_version: str


class PredictionPage(BaseModel):
    items: list[Prediction]
    total: int
    limit: int
    offset: int
    next_before: int | None = Field(
        description="pass as `before` for the next page; null on the last page"
    )


class Message(BaseModel):
    message: str
    docs: str


class ModelHealth(BaseModel):
    status: Literal["ok"]
    algorithm: str
    classes: list[str]
    trained_at: str
    scikit_learn: str


class DatabaseHealth(BaseModel):
    status: Literal["ok", "down"]
    backend: str


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    model: ModelHealth
    database: DatabaseHealth


class ErrorResponse(BaseModel):
    detail: str
