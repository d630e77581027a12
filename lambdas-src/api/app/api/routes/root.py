"""Hello world and health."""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter

from app.api.deps import ClassifierDep, RepositoryDep
from app.repository import DatabaseBusy, DatabaseUnavailable
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
        "database is down (predictions are then answered but not stored) or busy (a request "
        "met no free connection, or a statement or lock timed out, in the last seconds: "
        "predictions are then answered 503 with Retry-After)."
    ),
)
def health(classifier: ClassifierDep, repository: RepositoryDep) -> Health:
    database: Literal["ok", "busy", "down"] = "ok"
    try:
        repository.ping()
    except DatabaseBusy as exc:
        log.warning("health: database busy: %s", exc)
        database = "busy"
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
        database=DatabaseHealth(status=database, backend=repository.backend),
    )
