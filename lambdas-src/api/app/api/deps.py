"""Dependencies shared by the routes: what the lifespan put on `app.state`."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from app.batching import PredictionBatcher
from app.core.config import Settings
from app.repository import PredictionRepository
from app.slim_model import Classifier


def get_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


def get_classifier(request: Request) -> Classifier:
    return cast(Classifier, request.app.state.classifier)


def get_batcher(request: Request) -> PredictionBatcher:
    return cast(PredictionBatcher, request.app.state.batcher)


def get_repository(request: Request) -> PredictionRepository:
    return cast(PredictionRepository, request.app.state.repository)


SettingsDep = Annotated[Settings, Depends(get_settings)]
ClassifierDep = Annotated[Classifier, Depends(get_classifier)]
RepositoryDep = Annotated[PredictionRepository, Depends(get_repository)]
BatcherDep = Annotated[PredictionBatcher, Depends(get_batcher)]
