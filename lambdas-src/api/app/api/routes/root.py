"""Hello world and health."""

from __future__ import annotations

import logging

from fastapi import APIRouter

from app.api.deps import ClassifierDep, RepositoryDep
from app.repository import DatabaseUnavailable
from app.schemas import DatabaseHealth, Health, Message, ModelHealth

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get("/", summary="Hello world")
def hello() -> Message:
    return Message(message="Hello World", docs="/docs")


@router.get(
    "/health",
    summary="Model and database state",
    description=(
        "Always 200 while the process serves: `status` is `ok`, or `degraded` when the "
        "database is down (predictions are then answered but not stored)."
    ),
)
def health(classifier: ClassifierDep, repository: RepositoryDep) -> Health:
    try:
        repository.ping()
        database = "ok"
    except DatabaseUnavailable as exc:
        log.warning("health: database down: %s", exc)
        database = "down"
    meta = classifier.metadata
    return Health(
        status="ok" if database == "ok" else "degraded",
        model=ModelHealth(
            status="ok",
            algorithm=str(meta["algorithm"]),
            classes=list(classifier.classes),
            trained_at=str(meta["trained_at"]),
            scikit_learn=str(meta["versions"]["scikit-learn"]),
        ),
        database=DatabaseHealth(
            status="ok" if database == "ok" else "down", backend=repository.backend
        ),
    )
