"""Builds the FastAPI application.

`create_app()` is what tests and `python -m app` call (the latter with a model it has already
loaded, so that a bad model is a one-line error before the server starts). `app`, for
`uvicorn app.main:app`, is built on first access (so importing this module reads no settings)
and loads the model in its lifespan.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from app.api.routes import predict, predictions, root
from app.batching import PredictionBatcher
from app.core.config import Settings
from app.core.errors import install_error_handlers
from app.core.middleware import BodyGuardMiddleware, HeadMiddleware
from app.repository import (
    DatabaseBusy,
    DatabaseUnavailable,
    PredictionRepository,
    SqliteRepository,
)
from app.schemas import add_model_classes
from app.slim_model import Classifier, load_any_model

log = logging.getLogger("app")

DESCRIPTION = """Classifies short English texts into the model's three classes (TP2/TP3 of the
course week) and keeps every prediction in a database, which can be listed, corrected and
deleted. Errors are `{"detail": "..."}`."""


def make_repository(settings: Settings) -> PredictionRepository:
    """SQLite without DATABASE_URL; PostgreSQL (psycopg imported only then) with it."""
    if settings.database_url is None:
        return SqliteRepository(settings.sqlite_path, timeout_s=settings.db_pool_timeout_s)
    from app.postgres import PostgresRepository

    return PostgresRepository(
        settings.database_url.get_secret_value(),
        connect_timeout_s=settings.db_connect_timeout_s,
        pool_size=settings.db_pool_size,
        pool_timeout_s=settings.db_pool_timeout_s,
        processes=settings.web_concurrency,
        statement_timeout_s=settings.statement_timeout_s,
        lock_timeout_s=settings.lock_timeout_s,
    )


def create_app(
    settings: Settings | None = None,
    classifier: Classifier | None = None,
    repository: PredictionRepository | None = None,
) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        model = classifier or load_any_model(settings.model_path)
        log.info(
            "model %s loaded (%s, classes %s)",
            settings.model_path,
            model.version,
            ", ".join(model.classes),
        )
        repo = repository or make_repository(settings)
        try:
            repo.ensure_schema()
            log.info("database %s: ok", settings.database_display)
        except DatabaseBusy as exc:
            log.warning("database %s: busy (%s)", settings.database_display, exc)
        except DatabaseUnavailable as exc:
            log.warning(
                "database %s: down (%s); predictions are not stored until it answers",
                settings.database_display,
                exc,
            )
        batcher = PredictionBatcher(
            model,
            repo,
            settings.batch_max_size,
            settings.batch_max_wait_ms / 1000,
            settings.batch_concurrency,
        )
        app.state.settings = settings
        app.state.classifier = model
        app.state.repository = repo
        app.state.batcher = batcher
        try:
            yield
        finally:
            await batcher.close()
            repo.close()

    app = FastAPI(
        title="Text classification API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # no redirect built from the request's Host header (`/predict/` is a 404, not a 307)
        redirect_slashes=False,
    )
    app.add_middleware(BodyGuardMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(HeadMiddleware)  # outermost: a HEAD goes through the guard as a GET
    install_error_handlers(app)
    app.include_router(root.router)
    app.include_router(predict.router)
    app.include_router(predictions.router)
    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:  # the loaded model's class names in the schema
        if app.openapi_schema is None:
            schema = default_openapi()
            model = getattr(app.state, "classifier", None)
            if model is not None:
                add_model_classes(schema, model.classes)
        return app.openapi_schema or default_openapi()

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def __getattr__(name: str) -> FastAPI:
    if name == "app":
        instance = create_app()
        globals()["app"] = instance
        return instance
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
