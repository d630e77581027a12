"""Request and response bodies (pydantic). Requests forbid unknown fields and never coerce types."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

ALLOWED_CONTROL = frozenset("\t\n\r")
# Letters, digits, punctuation and symbols are visible; separators, controls, format characters
# (zero-width, BOM, direction marks, tags), combining marks and variation selectors are not.
VISIBLE_CATEGORIES = frozenset("LNPS")
# ...except these letters and symbols, which render as nothing (Unicode default-ignorable
# Hangul fillers, the blank Braille pattern).
BLANK_GRAPHICS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
CANONICAL_INT = re.compile(r"(?:0|[1-9][0-9]*)\Z")
MAX_INT_DIGITS = 19  # 2**63 - 1 has 19 digits


def clip(value: str, limit: int = 60) -> str:
    """`value` quoted, cut to `limit` characters with the full length said: errors never echo
    unbounded input."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value)} characters)"


def canonical_int(value: Any) -> Any:
    """Path and query integers: plain ASCII decimal digits, no sign, no leading zero, no
    spaces, underscores or fraction (`1_0`, `+1`, `01`, ` 1`, `1.0` are refused)."""
    if isinstance(value, str):
        if not CANONICAL_INT.match(value):
            raise ValueError(
                "must be an integer written with ASCII digits only (no sign, space, underscore,"
                f" fraction or leading zero), got {clip(value, 30)}"
            )
        if len(value) > MAX_INT_DIGITS:
            raise ValueError(f"must be less than or equal to {2**63 - 1}, got {len(value)} digits")
    return value


CanonicalInt = BeforeValidator(canonical_int)


def has_visible_character(value: str) -> bool:
    return any(
        unicodedata.category(char)[0] in VISIBLE_CATEGORIES and char not in BLANK_GRAPHICS
        for char in value
    )


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
    if not has_visible_character(value):
        raise ValueError(
            "must not be empty or only whitespace, format or combining characters "
            "(no visible character)"
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
    status: Literal["ok", "busy", "down"]
    backend: str


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    model: ModelHealth
    database: DatabaseHealth


class ErrorResponse(BaseModel):
    detail: str


def add_model_classes(schema: dict[str, Any], classes: Sequence[str]) -> dict[str, Any]:
    """Write the loaded model's class names into an OpenAPI schema (enum and examples)."""
    components = schema.get("components", {}).get("schemas", {})
    for name in ("PredictionResult", "PredictResponse", "Prediction"):
        properties = components.get(name, {}).get("properties", {})
        if "label" in properties:
            properties["label"]["enum"] = list(classes)
        if "probabilities" in properties:
            share = round(1 / len(classes), 2)
            properties["probabilities"]["examples"] = [dict.fromkeys(classes, share)]
    correction = components.get("CorrectionRequest", {}).get("properties", {})
    if "corrected_label" in correction:
        correction["corrected_label"]["examples"] = [classes[0]]
        correction["corrected_label"]["description"] = f"one of {', '.join(classes)}, or null"
    return schema
