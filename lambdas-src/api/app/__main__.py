"""`python -m app`: check the configuration and the model, then serve on HOST:PORT.

Exit status 2 for a bad setting, 1 for a model that is missing, corrupt or incompatible; each
with one line on stderr saying what is wrong. This is the command of the Docker image.
"""

from __future__ import annotations

import logging
import sys

from pydantic import ValidationError

from app.core.config import Settings
from app.slim_model import load_any_model
from ml.model import ModelError

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def describe_settings_error(exc: ValidationError) -> str:
    # Only the variable names and messages: a ValidationError's str() repeats the input value,
    # which for DATABASE_URL holds the password.
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors()
    )


def main() -> int:
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"error: invalid configuration: {describe_settings_error(exc)}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level.upper(), format=LOG_FORMAT)
    try:
        classifier = load_any_model(settings.model_path)
    except ModelError as exc:
        print(f"error: cannot start, unusable model: {exc}", file=sys.stderr)
        return 1
    # the server's imports come after the checks, which should fail fast
    from app.main import create_app
    from app.server import serve

    if settings.web_concurrency > 1:
        serve(settings)  # each worker process loads the model again
    else:
        serve(settings, create_app(settings, classifier=classifier))
    return 0


if __name__ == "__main__":
    sys.exit(main())
